// The README tour (its "A two-minute tour" section), run as written: `runlog serve` in a child
// process (what `npm start` runs, with free ports), then every `sh` block of the
// tour through bash, its output compared with the `json` block that follows it
// (a subset match; "…" stands for any value). Then SIGTERM: exit status 0.
import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = process.cwd();

interface Step {
  readonly command: string;
  readonly expected: unknown;
}

/** The tour's sh blocks, each with the json block after it; `npm start` is the server itself. */
function tourSteps(): Step[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const text = readme.split("## A two-minute tour")[1]!.split("\n## ")[0]!;
  const blocks = [...text.matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]!.trim() }));
  const steps: Step[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    if (block.lang !== "sh" || block.body === "npm start") continue;
    const next = blocks[i + 1];
    if (next?.lang !== "json") throw new Error(`tour: the command ${block.body} has no expected output`);
    steps.push({ command: block.body, expected: JSON.parse(next.body) });
  }
  return steps;
}

/** "…" matches anything; objects match a subset of keys; arrays match element by element. */
function pattern(value: unknown): unknown {
  if (value === "…") return expect.anything();
  if (Array.isArray(value)) return value.map(pattern);
  if (value !== null && typeof value === "object") {
    return expect.objectContaining(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pattern(v)])));
  }
  return value;
}

let server: ChildProcess;
let ports: { grpc: number; http: number };
let exit: Promise<number | null>;

beforeAll(async () => {
  // What `npm start` runs (tsx src/cli/main.ts serve), on free ports.
  server = spawn(process.execPath, [join(root, "bin", "runlog.js"), "serve", "--grpc-port", "0", "--http-port", "0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  exit = new Promise((resolve) => server.once("exit", (code) => resolve(code)));
  ports = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: server.stdout! });
    const timer = setTimeout(() => reject(new Error("runlog serve did not log its ports")), 20_000);
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; grpcPort?: number; httpPort?: number };
      if (entry.msg === "runlog serving") {
        clearTimeout(timer);
        resolve({ grpc: entry.grpcPort!, http: entry.httpPort! });
      }
    });
  });
}, 30_000);

afterAll(async () => {
  if (server.exitCode === null) server.kill("SIGKILL");
});

describe("the README tour", () => {
  const steps = tourSteps();

  it("has commands to run", () => {
    expect(steps.length).toBeGreaterThanOrEqual(5);
    expect(steps.some((s) => s.command.startsWith("curl"))).toBe(true);
    expect(steps.some((s) => s.command.includes("buf curl"))).toBe(true);
  });

  it("runs every command as written and gets the documented output", async () => {
    for (const step of steps) {
      const command = step.command
        .replaceAll("127.0.0.1:8080", `127.0.0.1:${ports.http}`)
        .replaceAll("127.0.0.1:50051", `127.0.0.1:${ports.grpc}`);
      const { stdout } = await run("bash", ["-c", command], { cwd: root, timeout: 20_000 });
      expect(JSON.parse(stdout), step.command).toEqual(pattern(step.expected));
    }
  }, 60_000);

  it("stops on SIGTERM with exit status 0", async () => {
    server.kill("SIGTERM");
    expect(await exit).toBe(0);
  });
});
