// Load generators: closed loops (N lanes, each awaiting its previous call) for
// a fixed duration, and an open loop at a fixed rate.
import { createLatencyRecorder, type LatencyRecorder } from "./stats.js";

export interface ClosedLoopResult {
  readonly ops: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latency: LatencyRecorder;
}

/**
 * Runs `lanes` concurrent loops for `durationMs`; each loop calls `op(lane, i)`
 * and awaits it before the next. `op` returns how many units it completed (default 1).
 */
export async function closedLoop(
  lanes: number,
  durationMs: number,
  op: (lane: number, i: number) => Promise<number | void>,
): Promise<ClosedLoopResult> {
  const latency = createLatencyRecorder(1 << 16);
  let ops = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  let stop = false;
  const loop = async (lane: number): Promise<void> => {
    let i = 0;
    while (!stop) {
      const t0 = performance.now();
      const n = await op(lane, i++);
      const t1 = performance.now();
      latency.add(t1 - t0);
      ops += typeof n === "number" ? n : 1;
      if (t1 >= deadline) stop = true;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, lane) => loop(lane)));
  const seconds = (performance.now() - start) / 1000;
  return { ops, seconds, perSecond: ops / seconds, latency };
}

/** Times `count` sequential calls of `op` (after `warmup` untimed ones); returns calls per second. */
export async function timeSequential(count: number, op: (i: number) => Promise<unknown> | unknown, warmup = 0): Promise<{ perSecond: number; meanMs: number }> {
  for (let i = 0; i < warmup; i++) await op(i);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await op(i);
  const ms = performance.now() - t0;
  return { perSecond: (count * 1000) / ms, meanMs: ms / count };
}

/** Runs `op` at `ratePerSecond` (open loop, not waiting for completion) for `durationMs`. */
export async function openLoop(ratePerSecond: number, durationMs: number, op: (i: number) => void): Promise<number> {
  const intervalMs = 1000 / ratePerSecond;
  const start = performance.now();
  let sent = 0;
  while (true) {
    const now = performance.now();
    const elapsed = now - start;
    if (elapsed >= durationMs) break;
    const due = Math.floor(elapsed / intervalMs) + 1;
    while (sent < due) op(sent++);
    // setTimeout has ~1 ms granularity; sleep until the next send is due.
    const wait = (sent * intervalMs) - (performance.now() - start);
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  return sent;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
