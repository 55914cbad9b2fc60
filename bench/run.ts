// `npm run bench` — runlog's one benchmark command.
//
//   npm run bench                       every case, RESULTS.md rewritten
//   npm run bench -- --filter append    cases whose name matches the regex
//   npm run bench -- --quick            smaller sizes (smoke test)
//   npm run bench -- --reps 3 --list --verbose --profile-servers --server-node-args=--trace-gc --server-output dir --out file.md --json file.json
//
// See bench/README.md for the corpus and how to profile.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import os from "node:os";
import { parseArgs } from "node:util";
import type { CorpusGroup } from "./lib/bench-case.js";
import { runCases, runChild } from "./lib/harness.js";
import { benchDir, repoDir } from "./lib/process.js";
import { buildMarkdown, buildRatios, buildRows, printTables } from "./lib/report.js";
import { corpus } from "./cases/index.js";

// tsx turns source maps on, and then every stack the client formats is mapped:
// grpc-js formats two for each failed call, and in the hot run (ABORTED answers)
// mapping them — reading and parsing source maps — was a sixth of the benchmark
// process's time, so the client, not the server, set the pace (bench/OPTIMISATIONS.md,
// "In bench/"). Stacks printed here name tsx's output positions instead;
// RUNLOG_BENCH_SOURCE_MAPS=1 keeps the mapping.
if (process.env.RUNLOG_BENCH_SOURCE_MAPS !== "1") process.setSourceMapsEnabled(false);

const { values } = parseArgs({
  options: {
    filter: { type: "string", short: "f" },
    reps: { type: "string", short: "r" },
    quick: { type: "boolean", default: false },
    list: { type: "boolean", default: false },
    verbose: { type: "boolean", short: "v", default: false },
    "profile-servers": { type: "boolean", default: false },
    "server-node-args": { type: "string" },
    "server-output": { type: "string" },
    out: { type: "string" },
    json: { type: "string" },
    "timeout-s": { type: "string" },
    child: { type: "string" },
    rep: { type: "string" },
  },
  allowPositionals: false,
});

const groups: readonly CorpusGroup[] = corpus;
const all = groups.flatMap((g) => g.cases);
const duplicate = all.find((c, i) => all.findIndex((d) => d.name === c.name) !== i);
if (duplicate) throw new Error(`duplicate case name ${duplicate.name}`);

if (values.child !== undefined) {
  const c = all.find((x) => x.name === values.child);
  if (!c) throw new Error(`no case ${values.child}`);
  await runChild(c, Number(values.rep ?? 0), values.quick);
  process.exit(0);
}

const filter = values.filter !== undefined ? new RegExp(values.filter) : undefined;
const selected = all.filter((c) => filter === undefined || filter.test(c.name));

if (values.list) {
  for (const g of groups) {
    const cs = g.cases.filter((c) => selected.includes(c));
    if (!cs.length) continue;
    console.log(`${g.group}`);
    for (const c of cs) console.log(`  ${c.name.padEnd(48)} ${c.metric}${c.target ? `  (target ${c.target.op} ${c.target.value})` : ""}`);
  }
  process.exit(0);
}
if (selected.length === 0) {
  console.error(`no case matches ${values.filter}; try --list`);
  process.exit(1);
}

const startedAt = new Date();
const loadAverageAtStart = os.loadavg();
const serverNodeArgs = values["server-node-args"]?.split(/\s+/).filter((a) => a !== "") ?? [];
const quick = values.quick;
const reps = values.reps !== undefined ? Number(values.reps) : undefined;
if (reps !== undefined && (!Number.isInteger(reps) || reps < 1)) throw new Error("--reps must be a positive integer");

console.error(`runlog bench: ${selected.length} of ${all.length} cases${quick ? " (quick)" : ""}`);
const results = await runCases(
  selected,
  {
    quick,
    reps,
    defaultReps: quick ? 3 : 5,
    profileServers: values["profile-servers"],
    serverNodeArgs,
    serverOutputDir: values["server-output"],
    verbose: values.verbose,
    timeoutMs: Number(values["timeout-s"] ?? 600) * 1000,
  },
  () => {},
);

const rows = buildRows(groups, results);
const ratios = buildRatios(groups, results);
console.log(`\n${printTables(rows, ratios)}`);

const command = ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ");
const markdown = buildMarkdown(
  { startedAt, finishedAt: new Date(), command, quick, filter: values.filter, loadAverageAtStart, serverNodeArgs },
  groups,
  results,
  rows,
  ratios,
);
// A full run rewrites RESULTS.md; a filtered or quick run writes beside it unless --out says otherwise.
const out = values.out ?? (filter === undefined && !quick ? join(benchDir, "RESULTS.md") : join(repoDir, ".tmp", "bench-results.md"));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown);
console.error(`results written to ${relative(process.cwd(), out)}`);
if (values.json !== undefined) {
  const json = [...results.values()].map((r) => ({ name: r.case.name, status: r.status, reason: r.reason, reps: r.reps }));
  writeFileSync(values.json, JSON.stringify({ startedAt, quick, results: json }, null, 2));
}
process.exit(0);
