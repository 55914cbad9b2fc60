// A TCP proxy in front of PostgreSQL that a test can cut and restore: the closest
// thing to a database restart that does not disturb the other test files sharing
// the server. down() resets every connection through it and refuses new ones
// (ECONNREFUSED, like a stopped server); up() accepts again.
import net from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  down(): void;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let port = 0;
  let server: net.Server | undefined;

  const listen = async () => {
    const s = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      sockets.add(client);
      sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as net.AddressInfo).port;
    server = s;
  };

  const down = () => {
    server?.close();
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get connections() {
      return sockets.size / 2;
    },
    down,
    async up() {
      if (server === undefined) await listen();
    },
    async close() {
      down();
    },
  };
}
