// What a benchmark case is: a named, self-describing measurement. A corpus file
// (bench/cases/*.ts) exports a list of cases and the ratios between them.

/** One repetition's figures: the case's primary metric plus any secondary ones. */
export type Metrics = Readonly<Record<string, number>>;

export interface RunContext {
  /** Smaller sizes for smoke testing (`--quick`). */
  readonly quick: boolean;
  /** 0-based repetition index. */
  readonly rep: number;
  /** Pass `--cpu-prof` to server processes the case starts (`--profile-servers`). */
  readonly profileServers: boolean;
  /** Extra node flags for server processes the case starts (`--server-node-args`). */
  readonly serverNodeArgs: readonly string[];
  /** Where server processes write their output after they are ready (`--server-output`). */
  readonly serverOutputDir: string | undefined;
  readonly log: (message: string) => void;
}

export interface Target {
  readonly op: ">=" | "<=";
  readonly value: number;
  /** Where the target comes from, e.g. "ARCHITECTURE §10". */
  readonly source: string;
}

interface CaseBase {
  /** Dotted, unique, stable: what `--filter` matches. */
  readonly name: string;
  /** How the figure is measured: sizes, concurrency, process layout. Printed in RESULTS.md. */
  readonly method: string;
  /** Key of the primary figure in Metrics, e.g. "events/s". */
  readonly metric: string;
  readonly better: "higher" | "lower";
  readonly target?: Target;
  /** Repetitions unless `--reps` overrides. Default: the harness's (5). */
  readonly reps?: number;
  /**
   * Run every repetition in a fresh child process with these node flags
   * (e.g. --expose-gc for heap measurements).
   */
  readonly isolate?: { readonly nodeArgs: readonly string[] };
  /**
   * Cases with the same key run together, repetition by repetition (A1 B1 A2 B2 …),
   * so that a ratio between them sees the same machine noise.
   */
  readonly interleave?: string;
}

export interface CaseSpec<S> extends CaseBase {
  /** A reason to skip (peer unreachable, component missing), or undefined to run. */
  available?(ctx: RunContext): Promise<string | undefined>;
  setup?(ctx: RunContext): Promise<S>;
  run(state: S, ctx: RunContext): Promise<Metrics>;
  teardown?(state: S): Promise<void>;
}

/** A case with its state type erased, as the harness holds it. */
export interface BenchCase extends CaseBase {
  available(ctx: RunContext): Promise<string | undefined>;
  setup(ctx: RunContext): Promise<unknown>;
  run(state: unknown, ctx: RunContext): Promise<Metrics>;
  teardown(state: unknown): Promise<void>;
}

export function defineCase<S = undefined>(spec: CaseSpec<S>): BenchCase {
  return {
    ...spec,
    available: spec.available ? (ctx) => spec.available!(ctx) : async () => undefined,
    setup: spec.setup ? (ctx) => spec.setup!(ctx) : async () => undefined,
    run: (state, ctx) => spec.run(state as S, ctx),
    teardown: spec.teardown ? (state) => spec.teardown!(state as S) : async () => {},
  };
}

/** A ratio between two cases' figures, computed per repetition when they were interleaved. */
export interface RatioSpec {
  readonly name: string;
  readonly numerator: string;
  readonly denominator: string;
  /** Metric of both cases; default each case's primary metric. */
  readonly metric?: string;
  readonly target?: Target;
  readonly note?: string;
}

/** What the harness knows about a case after running it. */
export interface CaseResult {
  readonly case: BenchCase;
  readonly status: "ok" | "skipped" | "failed";
  /** Skip reason or error message. */
  readonly reason?: string;
  /** One entry per successful repetition. */
  readonly reps: readonly Metrics[];
}

export interface CorpusGroup {
  readonly group: string;
  readonly cases: readonly BenchCase[];
  readonly ratios?: readonly RatioSpec[];
  /** Extra Markdown for RESULTS.md built from this run's results (e.g. a sweep table). */
  readonly report?: (results: ReadonlyMap<string, CaseResult>) => string | undefined;
}
