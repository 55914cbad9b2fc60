// Run as a child process by postgres-faults.int.test.ts: opens a PostgreSQL store,
// uses every part of it (pool, LISTEN connection, poll and retry timers), closes it
// and returns. The process must then exit by itself: close() left nothing behind.
import { createPostgresEventStore } from "../../src/store/postgres/postgres-event-store.js";
import { stepStarted } from "./events.js";

const [connectionString, schema] = process.argv.slice(2) as [string, string];
const store = await createPostgresEventStore({ connectionString, schema, pollIntervalMs: 20, positions: "xid-gated" });
const seen: unknown[] = [];
store.onAppend((events) => seen.push(...events));
await store.append([stepStarted("close-probe"), stepStarted("close-probe")]);
await store.readLog();
await store.listRuns();
await store.snapshots.save({ runId: "close-probe", sequence: 1n, reducerVersion: 1, state: new Uint8Array([1]) });
while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
await store.close();
process.stdout.write("closed\n");
