// Runs selected cases: availability, setup, repetitions (interleaved where
// asked), teardown; isolated cases run each repetition in a child process.
import type { BenchCase, CaseResult, Metrics, RunContext } from "./bench-case.js";
import { benchDir, printChildResult, runChildForResult } from "./process.js";
import { join } from "node:path";

export interface HarnessOptions {
  readonly quick: boolean;
  /** Overrides every case's repetitions. */
  readonly reps: number | undefined;
  readonly defaultReps: number;
  readonly profileServers: boolean;
  readonly serverNodeArgs: readonly string[];
  readonly serverOutputDir: string | undefined;
  readonly verbose: boolean;
  /** Per repetition. */
  readonly timeoutMs: number;
}

function context(options: HarnessOptions, rep: number, name: string): RunContext {
  return {
    quick: options.quick,
    rep,
    profileServers: options.profileServers,
    serverNodeArgs: options.serverNodeArgs,
    serverOutputDir: options.serverOutputDir,
    log: (message) => {
      if (options.verbose) process.stderr.write(`  [${name}] ${message}\n`);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]);
}

function message(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message).split("\n").slice(0, 4).join(" | ") : String(error);
}

function repsOf(c: BenchCase, options: HarnessOptions): number {
  return options.reps ?? c.reps ?? options.defaultReps;
}

/** Groups selected cases into units: interleave sets in corpus order, else single cases. */
function units(cases: readonly BenchCase[]): BenchCase[][] {
  const result: BenchCase[][] = [];
  const sets = new Map<string, BenchCase[]>();
  for (const c of cases) {
    if (c.interleave === undefined || c.isolate !== undefined) {
      result.push([c]);
      continue;
    }
    const set = sets.get(c.interleave);
    if (set) set.push(c);
    else {
      const fresh = [c];
      sets.set(c.interleave, fresh);
      result.push(fresh);
    }
  }
  return result;
}

export async function runCases(
  cases: readonly BenchCase[],
  options: HarnessOptions,
  onResult: (result: CaseResult) => void,
): Promise<Map<string, CaseResult>> {
  const results = new Map<string, CaseResult>();
  const finish = (result: CaseResult) => {
    results.set(result.case.name, result);
    onResult(result);
  };
  for (const unit of units(cases)) {
    const live: { c: BenchCase; state: unknown; reps: Metrics[]; error?: string }[] = [];
    for (const c of unit) {
      const ctx = context(options, 0, c.name);
      let reason: string | undefined;
      try {
        reason = await c.available(ctx);
      } catch (error) {
        reason = `availability check failed: ${message(error)}`;
      }
      if (reason !== undefined) {
        finish({ case: c, status: "skipped", reason, reps: [] });
        continue;
      }
      if (c.isolate) {
        finish(await runIsolated(c, options));
        continue;
      }
      process.stderr.write(`▶ ${c.name}: setup\n`);
      try {
        const state = await withTimeout(c.setup(ctx), options.timeoutMs * 4, `${c.name} setup`);
        live.push({ c, state, reps: [] });
      } catch (error) {
        finish({ case: c, status: "failed", reason: `setup: ${message(error)}`, reps: [] });
      }
    }
    const maxReps = Math.max(0, ...live.map((l) => repsOf(l.c, options)));
    for (let rep = 0; rep < maxReps; rep++) {
      for (const l of live) {
        if (l.error !== undefined || rep >= repsOf(l.c, options)) continue;
        const ctx = context(options, rep, l.c.name);
        try {
          const metrics = await withTimeout(l.c.run(l.state, ctx), options.timeoutMs, `${l.c.name} rep ${rep + 1}`);
          l.reps.push(metrics);
          process.stderr.write(`  ${l.c.name} #${rep + 1}: ${brief(metrics, l.c.metric)}\n`);
        } catch (error) {
          l.error = `rep ${rep + 1}: ${message(error)}`;
          process.stderr.write(`  ${l.c.name} #${rep + 1}: FAILED ${l.error}\n`);
        }
      }
    }
    for (const l of live) {
      try {
        await withTimeout(l.c.teardown(l.state), 60_000, `${l.c.name} teardown`);
      } catch (error) {
        process.stderr.write(`  ${l.c.name}: teardown failed: ${message(error)}\n`);
      }
      finish(
        l.error !== undefined && l.reps.length === 0
          ? { case: l.c, status: "failed", reason: l.error, reps: [] }
          : { case: l.c, status: "ok", reps: l.reps, ...(l.error !== undefined ? { reason: l.error } : {}) },
      );
    }
  }
  return results;
}

function brief(metrics: Metrics, primary: string): string {
  const entries = Object.entries(metrics);
  entries.sort(([a], [b]) => (a === primary ? -1 : b === primary ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(" ");
}

async function runIsolated(c: BenchCase, options: HarnessOptions): Promise<CaseResult> {
  const reps: Metrics[] = [];
  const n = repsOf(c, options);
  for (let rep = 0; rep < n; rep++) {
    process.stderr.write(`▶ ${c.name} #${rep + 1} (child process: node ${c.isolate!.nodeArgs.join(" ")})\n`);
    try {
      const args = ["--child", c.name, "--rep", String(rep), ...(options.quick ? ["--quick"] : [])];
      const metrics = await withTimeout(
        runChildForResult<Metrics>(join(benchDir, "run.ts"), args, { nodeArgs: c.isolate!.nodeArgs }),
        options.timeoutMs,
        `${c.name} rep ${rep + 1}`,
      );
      reps.push(metrics);
      process.stderr.write(`  ${c.name} #${rep + 1}: ${brief(metrics, c.metric)}\n`);
    } catch (error) {
      return { case: c, status: reps.length ? "ok" : "failed", reason: `rep ${rep + 1}: ${message(error)}`, reps };
    }
  }
  return { case: c, status: "ok", reps };
}

/** Inside the child process of an isolated case: one repetition, result on stdout. */
export async function runChild(c: BenchCase, rep: number, quick: boolean): Promise<void> {
  const ctx: RunContext = { quick, rep, profileServers: false, serverNodeArgs: [], serverOutputDir: undefined, log: (m) => process.stderr.write(`  [${c.name}] ${m}\n`) };
  const state = await c.setup(ctx);
  try {
    printChildResult(await c.run(state, ctx));
  } finally {
    await c.teardown(state);
  }
}
