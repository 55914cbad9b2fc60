// The HTTP port: @connectrpc/connect-node serving Connect (binary and JSON),
// gRPC-Web and gRPC for the same handlers, over HTTP/2 without TLS (h2c, prior
// knowledge) and HTTP/1.1 on one port, plus /healthz and /readyz.
//
// Node 20's http2.createServer ignores allowHTTP1 without TLS, so one TCP
// listener looks at the first bytes of each connection: the HTTP/2 preface
// ("PRI * HTTP/2.0…") goes to an http2 server, anything else to an http1 one.
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Logger } from "../logger.js";

export interface HttpServerOptions<S extends DescService> {
  readonly host: string;
  readonly port: number;
  readonly service: S;
  readonly implementation: ServiceImpl<S>;
  /** Largest message received or sent; larger: RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Aborted (with a ConnectError UNAVAILABLE) at shutdown: ends every call's signal. */
  readonly shutdownSignal: AbortSignal;
  /** Readiness: resolves when the server can serve (store reachable), rejects otherwise. */
  readonly ready: () => Promise<void>;
  readonly logger: Logger;
}

export interface HttpServer {
  readonly port: number;
  /** /readyz answers 503 from now on. */
  setServing(serving: boolean): void;
  /** Stops accepting connections and new HTTP/2 streams; idle HTTP/1 connections are closed. */
  stopAccepting(): void;
  /** Closes every connection now. */
  forceStop(): void;
}

const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export async function startHttpServer<S extends DescService>(options: HttpServerOptions<S>): Promise<HttpServer> {
  const { logger } = options;
  let serving = true;
  const connect = connectNodeAdapter({
    routes: (router) => router.service(options.service, options.implementation),
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    shutdownSignal: options.shutdownSignal,
    // The protobuf JSON default: an unknown field or enum name is INVALID_ARGUMENT. connect-es
    // would drop them, and a dropped filter value (types: ["EVENT_TYPE_FROM_THE_FUTURE"])
    // silently widens a filter to everything.
    jsonOptions: { ignoreUnknownFields: false },
  });

  const handle = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path === "/healthz") return plain(res, 200, "ok\n");
    if (path === "/readyz") {
      if (!serving) return plain(res, 503, "shutting down\n");
      options.ready().then(
        () => plain(res, 200, "ready\n"),
        (error: unknown) => {
          logger.warn({ err: error }, "readiness check failed");
          plain(res, 503, "store unreachable\n");
        },
      );
      return;
    }
    if (!serving) {
      // An HTTP/1.1 keep-alive connection may still send requests while we drain.
      res.setHeader("connection", "close");
    }
    connect(req as never, res as never);
  };

  const h1 = http.createServer(handle);
  const h2 = http2.createServer({}, handle);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  h2.on("sessionError", (error) => logger.debug({ err: error }, "http2 session error"));
  h1.on("clientError", (error, socket) => {
    logger.debug({ err: error }, "http1 client error");
    socket.destroy();
  });

  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    sniff(socket, (isHttp2) => (isHttp2 ? h2 : h1).emit("connection", socket));
  });

  const port = await new Promise<number>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => {
      listener.off("error", reject);
      resolve((listener.address() as net.AddressInfo).port);
    });
  });

  return {
    port,
    setServing(value) {
      serving = value;
    },
    stopAccepting() {
      serving = false;
      listener.close();
      for (const session of sessions) session.close(); // GOAWAY: running streams finish, no new ones
      h1.closeIdleConnections();
    },
    forceStop() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      h1.closeAllConnections();
    },
  };
}

/** Reads until it can tell the HTTP/2 preface from an HTTP/1 request line, then hands the socket on, bytes unread. */
function sniff(socket: net.Socket, route: (isHttp2: boolean) => void): void {
  let received = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const n = Math.min(received.length, http2Preface.length);
    const prefixMatches = received.subarray(0, n).equals(http2Preface.subarray(0, n));
    if (prefixMatches && received.length < http2Preface.length) return; // need more bytes
    socket.off("data", onData);
    socket.pause();
    socket.unshift(received);
    route(prefixMatches);
    // http2 reads what is buffered itself (on the next tick); http1 reads on 'data'.
    if (!prefixMatches) socket.resume();
  };
  socket.on("data", onData);
}

function plain(res: http.ServerResponse | http2.Http2ServerResponse, status: number, body: string): void {
  (res as http.ServerResponse).writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  (res as http.ServerResponse).end(body);
}

/** The reason handler signals carry at shutdown: clients see UNAVAILABLE and retry elsewhere. */
export function shutdownError(): ConnectError {
  return new ConnectError("the server is shutting down", Code.Unavailable);
}
