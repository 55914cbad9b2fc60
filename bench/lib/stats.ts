// Order statistics for repetition results and latency samples.

/** The q-quantile (0..1) of sorted values, linear interpolation between ranks. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (n === 1) return sorted[0]!;
  const rank = (n - 1) * q;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function sortNumbers(values: Iterable<number>): Float64Array {
  const sorted = Float64Array.from(values);
  sorted.sort();
  return sorted;
}

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly q1: number;
  readonly q3: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = sortNumbers(values.filter((v) => Number.isFinite(v)));
  return {
    n: sorted.length,
    median: quantileSorted(sorted, 0.5),
    min: sorted.length ? sorted[0]! : Number.NaN,
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    q1: quantileSorted(sorted, 0.25),
    q3: quantileSorted(sorted, 0.75),
  };
}

/** A latency recorder: collects samples (ms) and gives percentiles. */
export interface LatencyRecorder {
  add(ms: number): void;
  readonly count: number;
  percentile(q: number): number;
}

export function createLatencyRecorder(capacity = 1 << 20): LatencyRecorder {
  let samples = new Float64Array(capacity);
  let count = 0;
  let sorted: Float64Array | undefined;
  return {
    add(ms) {
      if (count === samples.length) {
        const bigger = new Float64Array(samples.length * 2);
        bigger.set(samples);
        samples = bigger;
      }
      samples[count++] = ms;
      sorted = undefined;
    },
    get count() {
      return count;
    },
    percentile(q) {
      sorted ??= samples.slice(0, count).sort();
      return quantileSorted(sorted, q);
    },
  };
}
