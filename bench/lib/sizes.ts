// Sizes and durations, full or --quick.
import type { RunContext } from "./bench-case.js";

export const pick = <T>(ctx: RunContext, full: T, quick: T): T => (ctx.quick ? quick : full);

/** How long a throughput repetition runs (ms). */
export const durationMs = (ctx: RunContext): number => (ctx.quick ? 500 : 2500);

/** Events preloaded for catch-up benchmarks. */
export const catchUpEvents = (ctx: RunContext): number => (ctx.quick ? 100_000 : 1_000_000);
