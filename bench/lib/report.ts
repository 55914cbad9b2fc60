// The results table (printed) and bench/RESULTS.md (written).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { CaseResult, CorpusGroup, RatioSpec, Target } from "./bench-case.js";
import { formatNumber, formatRatio, markdownTable, textTable } from "./format.js";
import { serverNodeFlags } from "../../src/cli/node-flags.js";
import { benchDir, repoDir } from "./process.js";
import { summarize, type Summary } from "./stats.js";

export interface RunInfo {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly command: string;
  readonly quick: boolean;
  readonly filter: string | undefined;
  readonly loadAverageAtStart: readonly number[];
  /** --server-node-args, after src/cli/node-flags.ts's. */
  readonly serverNodeArgs: readonly string[];
}

export interface Row {
  readonly name: string;
  readonly group: string;
  readonly result: CaseResult;
  readonly primary: Summary | undefined;
  readonly extras: string;
  readonly targetStatus: string;
}

function targetStatus(target: Target | undefined, median: number | undefined): string {
  if (target === undefined) return "";
  const goal = `${target.op} ${formatNumber(target.value)}`;
  if (median === undefined || !Number.isFinite(median)) return `${goal}: not measured`;
  const met = target.op === ">=" ? median >= target.value : median <= target.value;
  // How far from the target, as a factor that is > 1 when better.
  const factor = target.op === ">=" ? median / target.value : target.value / median;
  return `${goal}: ${met ? "met" : "MISSED"} (${formatRatio(factor)})`;
}

export function buildRows(groups: readonly CorpusGroup[], results: ReadonlyMap<string, CaseResult>): Row[] {
  const rows: Row[] = [];
  for (const g of groups) {
    for (const c of g.cases) {
      const result = results.get(c.name);
      if (!result) continue;
      const primary = result.reps.length ? summarize(result.reps.map((m) => m[c.metric] ?? Number.NaN)) : undefined;
      const extraKeys = new Set<string>();
      for (const m of result.reps) for (const k of Object.keys(m)) if (k !== c.metric) extraKeys.add(k);
      const extras = [...extraKeys]
        .map((k) => `${k} ${formatNumber(summarize(result.reps.map((m) => m[k] ?? Number.NaN)).median)}`)
        .join(", ");
      rows.push({ name: c.name, group: g.group, result, primary, extras, targetStatus: targetStatus(c.target, primary?.median) });
    }
  }
  return rows;
}

export interface RatioRow {
  readonly spec: RatioSpec;
  readonly value: Summary | undefined;
  /** "per-rep" when both cases were interleaved, else "medians". */
  readonly how: string;
  readonly status: string;
}

export function buildRatios(groups: readonly CorpusGroup[], results: ReadonlyMap<string, CaseResult>): RatioRow[] {
  const rows: RatioRow[] = [];
  for (const g of groups) {
    for (const spec of g.ratios ?? []) {
      const a = results.get(spec.numerator);
      const b = results.get(spec.denominator);
      if (!a || !b) continue;
      const ka = spec.metric ?? a.case.metric;
      const kb = spec.metric ?? b.case.metric;
      let value: Summary | undefined;
      let how = "medians";
      if (a.reps.length && b.reps.length) {
        const paired =
          a.case.interleave !== undefined && a.case.interleave === b.case.interleave && a.reps.length === b.reps.length;
        if (paired) {
          how = "per-rep";
          value = summarize(a.reps.map((m, i) => (m[ka] ?? Number.NaN) / (b.reps[i]![kb] ?? Number.NaN)));
        } else {
          const ma = summarize(a.reps.map((m) => m[ka] ?? Number.NaN)).median;
          const mb = summarize(b.reps.map((m) => m[kb] ?? Number.NaN)).median;
          const r = ma / mb;
          value = { n: 1, median: r, min: r, max: r, q1: r, q3: r };
        }
      }
      rows.push({ spec, value, how, status: targetStatus(spec.target, value?.median) });
    }
  }
  return rows;
}

function spread(s: Summary | undefined): string {
  if (!s || s.n === 0) return "";
  return s.n === 1 ? "" : `${formatNumber(s.min)}–${formatNumber(s.max)}`;
}

function resultCells(row: Row): string[] {
  const c = row.result.case;
  if (row.result.status === "skipped") return [row.name, c.metric, "skipped", "", "0", "", row.result.reason ?? ""];
  if (row.result.status === "failed") return [row.name, c.metric, "FAILED", "", "0", "", row.result.reason ?? ""];
  return [
    row.name,
    c.metric,
    formatNumber(row.primary!.median),
    spread(row.primary),
    String(row.result.reps.length),
    row.targetStatus,
    row.extras + (row.result.reason ? ` (${row.result.reason})` : ""),
  ];
}

const header = ["case", "metric", "median", "min–max", "reps", "target", "other figures (medians)"];
const numeric = [false, false, true, true, true, false, false];
const ratioHeader = ["ratio", "median", "min–max", "computed", "target", "note"];
const ratioNumeric = [false, true, true, false, false, false];

function ratioCells(r: RatioRow, long = false): string[] {
  return [
    long ? `${r.spec.name} (${r.spec.numerator} / ${r.spec.denominator})` : r.spec.name,
    r.value ? formatRatio(r.value.median) : "–",
    r.value && r.value.n > 1 ? `${formatRatio(r.value.min)}–${formatRatio(r.value.max)}` : "",
    r.how,
    r.status,
    r.spec.note ?? "",
  ];
}

export function printTables(rows: readonly Row[], ratios: readonly RatioRow[]): string {
  const table = textTable(header, rows.map((r) => resultCells(r).map((c) => (c.length > 120 ? `${c.slice(0, 117)}…` : c))), numeric);
  const ratioTable = ratios.length ? `\n\nRatios\n${textTable(ratioHeader, ratios.map((r) => ratioCells(r)), ratioNumeric)}` : "";
  return `${table}${ratioTable}\n`;
}

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: repoDir, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: repoDir, encoding: "utf8" }).trim() !== "";
    return dirty ? `${head} (working tree has uncommitted changes)` : head;
  } catch {
    return "unknown";
  }
}

/** This process's node flags without tsx's own loader flags. */
function benchProcessFlags(): string[] {
  const flags: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === "--require" || argv[i] === "--import") && argv[i + 1]?.includes("tsx")) i++;
    else flags.push(argv[i]!);
  }
  return flags;
}

export function machineDescription(): string {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(", ");
  return `${cpus.length} × ${models}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()})`;
}

export function buildMarkdown(
  info: RunInfo,
  groups: readonly CorpusGroup[],
  results: ReadonlyMap<string, CaseResult>,
  rows: readonly Row[],
  ratios: readonly RatioRow[],
): string {
  const out: string[] = [];
  out.push("# runlog benchmark results", "");
  out.push("Generated by `npm run bench` (bench/run.ts). Do not edit by hand: rerun the command.", "");
  out.push(
    `- date: ${info.startedAt.toISOString()} (took ${((info.finishedAt.getTime() - info.startedAt.getTime()) / 60_000).toFixed(1)} min)`,
    `- command: \`${info.command}\`${info.quick ? " — QUICK MODE (smoke sizes, figures not comparable)" : ""}`,
    `- machine: ${machineDescription()}`,
    `- load average at start (1/5/15 min): ${info.loadAverageAtStart.map((l) => l.toFixed(2)).join(" / ")} — other work on the machine makes absolute figures noisy; compare ratios`,
    `- node: ${process.version}; git commit: ${gitCommit()}`,
    `- node flags: benchmark process \`${benchProcessFlags().join(" ") || "(none)"}\`, server processes \`${[...serverNodeFlags, ...info.serverNodeArgs].join(" ")}\``,
    `- every figure: median of the repetitions, spread min–max; ratios per repetition when the two cases were interleaved (A1 B1 A2 B2 …), else the ratio of medians`,
    "",
  );
  out.push("## Results", "", markdownTable(header, rows.map(resultCells), numeric), "");
  if (ratios.length) out.push("## Ratios", "", markdownTable(ratioHeader, ratios.map((r) => ratioCells(r, true)), ratioNumeric), "");
  const targets = [
    ...rows.filter((r) => r.result.case.target).map((r) => `- ${r.name}: ${r.targetStatus || r.result.status} — ${r.result.case.target!.source}`),
    ...ratios.filter((r) => r.spec.target).map((r) => `- ${r.spec.name}: ${r.status} — ${r.spec.target!.source}`),
  ];
  if (targets.length) out.push("## Targets", "", ...targets, "");
  for (const g of groups) {
    const extra = g.report?.(results);
    if (extra) out.push(extra.trimEnd(), "");
  }
  out.push("## Method per case", "");
  for (const g of groups) {
    const inRun = g.cases.filter((c) => results.has(c.name));
    if (!inRun.length) continue;
    out.push(`### ${g.group}`, "");
    for (const c of inRun) {
      const r = results.get(c.name)!;
      const reps = r.reps.length;
      out.push(`- **${c.name}** (${c.metric}, ${c.better} is better, ${reps} rep${reps === 1 ? "" : "s"}${c.isolate ? `, each in a fresh \`node ${c.isolate.nodeArgs.join(" ")}\` child` : ""}${c.interleave ? `, interleaved with the other \`${c.interleave}\` cases` : ""}): ${c.method}`);
    }
    out.push("");
  }
  const notes = join(benchDir, "OPTIMISATIONS.md");
  if (existsSync(notes)) out.push(readFileSync(notes, "utf8").trimEnd(), "");
  return `${out.join("\n")}\n`;
}
