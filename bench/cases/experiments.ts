// Proposed src/ changes, measured before they are made: each variant
// (bench/experiments/catalog.ts) is the current sources with one patch, served
// by its own process, interleaved repetition by repetition with the unpatched
// server on the same workload. Names start with experiment.<variant>.
import type { BenchCase, CorpusGroup, RatioSpec } from "../lib/bench-case.js";
import { runlogServerAvailable } from "../lib/servers.js";
import { leanCallEnd, leanContext } from "../experiments/catalog.js";
import { buildVariant, type Variant } from "../experiments/variant.js";
import { unaryRunlog, type Flavour } from "./grpc.js";

function flavourOf(variant: Variant): Flavour {
  let entry: string | undefined;
  let failure: string | undefined;
  return {
    label: `experiment.${variant.name}`,
    async available() {
      const missing = await runlogServerAvailable();
      if (missing) return missing;
      try {
        entry ??= buildVariant(variant);
      } catch (error) {
        failure = (error as Error).message;
      }
      return failure;
    },
    serverArgs: () => ["--bench-server-module", entry!],
  };
}

const lean = flavourOf(leanCallEnd);
const leanCtx = flavourOf(leanContext);

const cases: BenchCase[] = [unaryRunlog(16, lean), unaryRunlog(64, lean), unaryRunlog(1, leanCtx), unaryRunlog(16, leanCtx), unaryRunlog(64, leanCtx)];

const ratio = (variant: Variant, label: string, workload: string): RatioSpec => ({
  name: `${variant.name}: ${label}, patched / current`,
  numerator: `experiment.${variant.name}.${workload}`,
  denominator: `runlog.${workload}`,
  note: variant.description,
});

export const experiments: CorpusGroup = {
  group: "experiments: proposed src/ changes, measured on patched copies",
  cases,
  ratios: [
    ratio(leanCallEnd, "unary Append c16", "grpc.append.unary.c16"),
    ratio(leanCallEnd, "unary Append c64", "grpc.append.unary.c64"),
    ratio(leanContext, "unary Append c1", "grpc.append.unary.c1"),
    ratio(leanContext, "unary Append c16", "grpc.append.unary.c16"),
    ratio(leanContext, "unary Append c64", "grpc.append.unary.c64"),
  ],
};

