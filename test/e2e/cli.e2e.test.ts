// `runlog serve` as a process: bad flags exit 2 with a clear message, env vars
// configure it, --help lists the flags, SIGINT drains and exits 0.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { serverNodeFlags } from "../../src/cli/node-flags.js";

const root = process.cwd();
const bin = join(root, "bin", "runlog.js");
const run = promisify(execFile);

async function fails(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeout: 20_000 });
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`runlog ${args.join(" ")} did not fail`);
}

describe("runlog serve flags", () => {
  it("a bad flag exits 2 with the reason (every check: test/cli/config.unit.test.ts)", async () => {
    const { code, stderr } = await fails(["serve", "--grpc-port", "http"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--grpc-port must be a whole number");
    const unknown = await fails(["launch"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "launch"');
  });

  it("names the environment variable when it is the bad one", async () => {
    const { code, stderr } = await fails(["serve"], { RUNLOG_MAX_BATCH_EVENTS: "lots" });
    expect(code).toBe(2);
    expect(stderr).toContain("RUNLOG_MAX_BATCH_EVENTS must be a whole number");
  });

  it("--help lists every flag and exits 0", async () => {
    const { stdout } = await run(process.execPath, [bin, "serve", "--help"]);
    for (const flag of ["--grpc-port", "--http-port", "--host", "--store", "--snapshot-every", "--no-lifecycle-validation", "--shutdown-grace-ms"]) {
      expect(stdout).toContain(flag);
    }
  });

  it("takes its config from the environment, logs JSON, and exits 0 on SIGINT", async () => {
    const child = spawn(process.execPath, [bin, "serve", "--http-port", "0"], {
      env: { ...process.env, RUNLOG_GRPC_PORT: "0", RUNLOG_SHUTDOWN_GRACE_MS: "1500", RUNLOG_LIFECYCLE_VALIDATION: "false" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const lines: Record<string, unknown>[] = [];
    const serving = new Promise<Record<string, unknown>>((resolve) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === "runlog serving") resolve(entry);
      });
    });
    const entry = await serving;
    expect(entry).toMatchObject({ level: 30, host: "127.0.0.1", store: "memory", service: "runlog" });
    const ready = await fetch(`http://127.0.0.1:${entry.httpPort as number}/readyz`);
    expect(ready.status).toBe(200);
    // Lifecycle validation is off: an event after workflow.completed is stored.
    const append = (body: object) =>
      fetch(`http://127.0.0.1:${entry.httpPort as number}/runlog.v1.EventStore/AppendBatch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const response = await append({
      events: [
        { runId: "r", workflowStarted: { workflowName: "w" } },
        { runId: "r", workflowCompleted: {} },
        { runId: "r", stepName: "late", stepStarted: {} },
      ],
    });
    expect(response.status).toBe(200);
    const started = Date.now();
    child.kill("SIGINT");
    expect(await exit).toBe(0);
    expect(Date.now() - started).toBeLessThan(1500 + 2000);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["signal received", "shutting down", "stopped"]));
  });

  // /proc shows the command line node was started with: Linux only.
  it.runIf(existsSync("/proc/self/cmdline"))("run as a program, bin/runlog.js starts node with serverNodeFlags", async () => {
    const child = spawn(bin, ["serve", "--grpc-port", "0", "--http-port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if ((JSON.parse(line) as { msg?: string }).msg === "runlog serving") resolve();
      });
    });
    // env -S execs node in place, so the child's pid is node's.
    const argv = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0");
    child.kill("SIGINT");
    expect(await exit).toBe(0);
    expect(argv.slice(1, 1 + serverNodeFlags.length)).toEqual(serverNodeFlags);
    expect(argv).toContain(bin);
  });
});
