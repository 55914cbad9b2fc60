// A polyglot client: Debian's python3-grpcio (an independent gRPC
// implementation, in C core) with stubs generated from proto/ at test time by
// grpc_tools, appends a workflow history, loads it, subscribes to it, reads its
// state and decodes a typed error detail (test/e2e/python/runlog_client.py).
//
// Debian bookworm's python3-grpc-tools bundles libprotoc 3.5.1, older than
// proto3 `optional` (3.15): the protos are copied to a temporary directory with
// that label removed before generating. The wire format is the same; the
// Python stubs only lose field presence on the three optional fields.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.js";
import { uniqueRunId } from "../support/events.js";
import { startTestServer } from "../support/server.js";

const run = promisify(execFile);
// Debian's interpreter, where python3-grpcio lives (not whatever python3 is first on PATH).
const python = "/usr/bin/python3";
const here = join(process.cwd(), "test", "e2e", "python");

let server: RunningServer;
let stubs: string;

beforeAll(async () => {
  try {
    await run(python, ["-c", "import grpc, grpc_tools.protoc"]);
  } catch {
    throw new Error(
      "python3-grpcio and python3-grpc-tools are missing: run scripts/install-test-deps.sh (apt-get install python3-grpcio python3-grpc-tools)",
    );
  }
  const work = mkdtempSync(join(tmpdir(), "runlog-py-"));
  const protos = join(work, "proto");
  stubs = join(work, "stubs");
  cpSync(join(process.cwd(), "proto"), protos, { recursive: true });
  cpSync(join(here, "google"), join(protos, "google"), { recursive: true });
  const files: string[] = [];
  for (const dir of [join(protos, "runlog", "v1"), join(protos, "google", "rpc")]) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".proto"))) {
      const path = join(dir, name);
      writeFileSync(path, readFileSync(path, "utf8").replace(/^(\s*)optional\s+/gm, "$1"));
      files.push(path);
    }
  }
  mkdirSync(stubs);
  const { stdout: include } = await run(python, [
    "-c",
    "import os, grpc_tools; print(os.path.join(os.path.dirname(grpc_tools.__file__), '_proto'))",
  ]);
  await run(python, [
    "-m",
    "grpc_tools.protoc",
    `-I${protos}`,
    `-I${include.trim()}`,
    `--python_out=${stubs}`,
    `--grpc_python_out=${stubs}`,
    ...files,
  ]);
  server = await startTestServer();
  return () => rmSync(work, { recursive: true, force: true });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("python3-grpcio client", () => {
  it("appends a history, loads it, subscribes, reads the state, decodes an error detail", async () => {
    const runId = uniqueRunId("py");
    const { stdout } = await run(python, [join(here, "runlog_client.py"), "--target", `127.0.0.1:${server.grpcPort}`, "--run-id", runId], {
      env: { ...process.env, PYTHONPATH: stubs },
      timeout: 30_000,
    });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen.first).toMatchObject({ sequence: 1 });
    expect(seen.batch_sequences).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(seen.conflict).toEqual({ code: "ABORTED", run_id: runId, expected: 3, actual: 8 });
    expect((seen.loaded as { sequence: number }[]).map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((seen.loaded as { type: string }[])[0]).toEqual({
      sequence: 1,
      type: "EVENT_TYPE_WORKFLOW_STARTED",
      payload: "workflow_started",
    });
    expect(seen.input).toEqual({ order: 7, items: ["tea", "cake"] });
    expect(seen.subscribed).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seen.markers).toEqual([{ kind: "caught_up", position: 8 }]);
    expect(seen.state).toEqual({
      workflow_name: "py-order",
      status: "RUN_STATUS_COMPLETED",
      steps: [
        ["reserve", "STEP_STATUS_COMPLETED"],
        ["ship", "STEP_STATUS_COMPLETED"],
      ],
      output: { ok: true },
    });
    expect(seen.past_status).toBe("RUN_STATUS_WAITING");
    // What Python wrote is what the store holds.
    expect(await server.store.getLastSequence(runId)).toBe(8n);
  });
});
