// The node flags `runlog serve` runs with: package.json's "start" script and
// bin/runlog.js's #! line pass them (they cannot be set once the process runs),
// and the benchmark's server processes get the same (bench/lib/servers.ts).
// test/cli/node-flags.unit.test.ts keeps the three in step.
//
// --v8-pool-size=1: one V8 worker thread instead of four. The garbage
// collector's parallel and concurrent tasks run on those workers; on the
// 2-core machines runlog is measured on, four of them beside the main thread
// and the clients meant the main thread waited, mid-collection, for workers
// the kernel had not scheduled. With one, p99 append→delivery at 10
// subscribers was 0.55–0.7× node's default in four of five interleaved runs
// (not in the fifth), throughput unchanged within noise:
// docs/adr/0009-one-v8-worker-thread.md, bench/OPTIMISATIONS.md 32.
export const serverNodeFlags: readonly string[] = ["--v8-pool-size=1"];
