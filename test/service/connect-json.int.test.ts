// Connect JSON as curl sends it: one HTTP/1.1 POST with Content-Type
// application/json and a JSON body, no Connect headers. Events' free-form
// parts are real JSON (google.protobuf.Value), int64 are strings, enums names.
import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.js";
import { uniqueRunId } from "../support/events.js";
import { startTestServer } from "../support/server.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

/** What `curl -sS -X POST -H 'Content-Type: application/json' -d <body> <url>` does. */
function post(path: string, body: unknown): Promise<{ status: number; contentType: string; json: unknown }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port: server.httpPort,
        method: "POST",
        path,
        headers: {
          "User-Agent": "curl/7.88.1",
          Accept: "*/*",
          "Content-Type": "application/json",
          "Content-Length": data.length,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"]),
            json: JSON.parse(Buffer.concat(chunks).toString("utf8")),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(data);
  });
}

describe("Connect JSON over a plain HTTP/1.1 POST", () => {
  it("Append, Load and GetRunState", async () => {
    const runId = uniqueRunId("curl");
    const started = await post("/runlog.v1.EventStore/Append", {
      event: { runId, workflowStarted: { workflowName: "order", input: { orderId: 42, items: ["a", "b"] } } },
      expectedLastSequence: "0",
    });
    expect(started.status).toBe(200);
    expect(started.contentType).toBe("application/json");
    expect(started.json).toMatchObject({ event: { runId, sequence: "1" } });

    const step = await post("/runlog.v1.EventStore/Append", {
      event: { runId, stepName: "charge", stepStarted: {} },
    });
    expect(step.json).toMatchObject({ event: { sequence: "2" } });
    const done = await post("/runlog.v1.EventStore/Append", {
      event: { runId, stepName: "charge", stepCompleted: {}, output: { paid: true, amount: 12.5 } },
    });
    expect(done.status).toBe(200);

    const loaded = (await post("/runlog.v1.EventStore/Load", { runId })).json as { events: Record<string, unknown>[] };
    expect(loaded.events).toHaveLength(3);
    expect(loaded.events[0]).toMatchObject({
      runId,
      sequence: "1",
      version: 1,
      type: "EVENT_TYPE_WORKFLOW_STARTED",
      workflowStarted: { workflowName: "order", input: { orderId: 42, items: ["a", "b"] } },
    });
    expect(loaded.events[2]).toMatchObject({ type: "EVENT_TYPE_STEP_COMPLETED", output: { paid: true, amount: 12.5 } });
    expect(typeof loaded.events[0]!.timestamp).toBe("string");

    const state = await post("/runlog.v1.EventStore/GetRunState", { runId });
    expect(state.status).toBe(200);
    expect(state.json).toMatchObject({
      state: {
        runId,
        workflowName: "order",
        status: "RUN_STATUS_RUNNING",
        input: { orderId: 42, items: ["a", "b"] },
        steps: [{ name: "charge", status: "STEP_STATUS_COMPLETED", output: { paid: true, amount: 12.5 } }],
      },
    });
    const past = await post("/runlog.v1.EventStore/GetRunState", { runId, asOfSequence: "1" });
    expect(past.json).toMatchObject({ state: { status: "RUN_STATUS_RUNNING" } });
    expect((past.json as { state: { steps?: unknown } }).state.steps).toBeUndefined(); // empty lists are omitted
  });

  it("errors are JSON with a code and the typed detail", async () => {
    const runId = uniqueRunId("curl");
    const conflict = await post("/runlog.v1.EventStore/Append", {
      event: { runId, workflowStarted: { workflowName: "order" } },
      expectedLastSequence: "3",
    });
    expect(conflict.status).toBe(409);
    expect(conflict.json).toMatchObject({
      code: "aborted",
      details: [{ type: "runlog.v1.ConcurrencyConflict", value: expect.any(String) }],
    });
    const unknown = await post("/runlog.v1.EventStore/GetRunState", { runId });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: "not_found", details: [{ type: "runlog.v1.RunNotFound" }] });
    const badEnum = await post("/runlog.v1.EventStore/ReadLog", { filter: { types: ["EVENT_TYPE_NOPE"] } });
    expect(badEnum.status).toBe(400);
    expect(badEnum.json).toMatchObject({ code: "invalid_argument" });
    expect((badEnum.json as { message: string }).message).toContain("EVENT_TYPE_NOPE");
    const unknownField = await post("/runlog.v1.EventStore/Load", { runId, afterSequense: "2" });
    expect(unknownField.status).toBe(400);
    expect((unknownField.json as { message: string }).message).toContain("afterSequense");
  });
});
