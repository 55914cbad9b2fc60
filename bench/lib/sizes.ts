// Sizes and durations, full or --quick.
import type { RunContext } from "./bench-case.js";

export const pick = <T>(ctx: RunContext, full: T, quick: T): T => (ctx.quick ? quick : full);

/** How long a throughput repetition runs (ms). */
export const durationMs = (ctx: RunContext): number => (ctx.quick ? 500 : 2500);

/** Events preloaded for catch-up benchmarks. */
export const catchUpEvents = (ctx: RunContext): number => (ctx.quick ? 100_000 : 1_000_000);

/**
 * Unmeasured load, on a run (subject) of its own, before the hot-run cases'
 * repetitions, runlog's and NATS's alike: without it the first repetition
 * measured a server still compiling its conflict path and was always the lowest.
 */
export const hotRunWarmUpMs = 3_000;
