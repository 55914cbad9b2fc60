// runlog's pieces loaded for in-process cases. The imports are dynamic so that
// the harness (and every other group) still runs when a piece is missing;
// `missing()` turns a failed import into a skip reason.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoDir } from "./process.js";

/** Skip reason when one of these files (repo-relative) does not exist yet. */
export function missing(...files: string[]): string | undefined {
  const absent = files.filter((f) => !existsSync(join(repoDir, f)));
  return absent.length ? `not built yet: ${absent.join(", ")}` : undefined;
}

export const memoryStoreFile = "src/store/memory/memory-event-store.ts";
export const reconstructorFile = "src/reconstruct/create-reconstructor.ts";
export const postgresStoreFile = "src/store/postgres/postgres-event-store.ts";

export async function loadMemoryStore() {
  return (await import("../../src/store/memory/memory-event-store.js")).createMemoryEventStore;
}

export async function loadReconstructor() {
  return await import("../../src/reconstruct/create-reconstructor.js");
}

export async function loadFold() {
  const [{ evolve }, { initialRunState }, { toRunState }, codec] = await Promise.all([
    import("../../src/reconstruct/evolve.js"),
    import("../../src/reconstruct/initial-state.js"),
    import("../../src/reconstruct/to-run-state.js"),
    import("../../src/reconstruct/snapshot-codec.js"),
  ]);
  return { evolve, initialRunState, toRunState, encodeSnapshot: codec.encodeSnapshot, decodeSnapshot: codec.decodeSnapshot };
}

export async function loadAppender() {
  const [{ createAppender }, { silentLogger }, { defaultLimits }] = await Promise.all([
    import("../../src/service/appender.js"),
    import("../../src/logger.js"),
    import("../../src/limits.js"),
  ]);
  return { createAppender, silentLogger, defaultLimits };
}

export async function loadPostgresStore() {
  return (await import("../../src/store/postgres/postgres-event-store.js")).createPostgresEventStore;
}
