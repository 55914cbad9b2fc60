// Proposed src/ changes, measured before they are made: each variant
// (bench/experiments/catalog.ts) is the current sources with one patch, served
// by its own process, interleaved repetition by repetition with the unpatched
// server on the same workload. Names start with experiment.<variant>.
import type { BenchCase, CorpusGroup, RatioSpec } from "../lib/bench-case.js";
import { runlogServerAvailable } from "../lib/servers.js";
import { noopAppend, protobufEsCodec } from "../experiments/catalog.js";
import { buildCompiled } from "../experiments/compiled.js";
import { buildVariant, type Variant } from "../experiments/variant.js";
import { appendBatch, catchUpCase, fanOutLatency, fanOutThroughput, unaryRunlog, type Flavour } from "./grpc.js";

export function flavourOf(variant: Variant): Flavour {
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

const compiled: Flavour = {
  label: "experiment.compiled",
  async available() {
    const missing = await runlogServerAvailable();
    if (missing) return missing;
    try {
      buildCompiled();
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  },
  serverArgs: () => [],
  script: () => buildCompiled(),
};

/** The current server under other node flags (a runtime setting rather than a patch). */
function withNodeFlags(name: string, flags: readonly string[]): Flavour {
  return { label: `experiment.${name}`, available: () => runlogServerAvailable(), serverArgs: () => [], nodeArgs: () => [...flags] };
}

/** Node's default of four V8 worker threads, the "before" of src/cli/node-flags.ts (OPTIMISATIONS 32). */
const v8Pool4 = withNodeFlags("v8-pool-4", ["--v8-pool-size=4"]);

const noop = flavourOf(noopAppend);
const protobufEs = flavourOf(protobufEsCodec);

const cases: BenchCase[] = [
  unaryRunlog(16, compiled),
  unaryRunlog(64, compiled),
  unaryRunlog(16, noop),
  unaryRunlog(64, noop),
  unaryRunlog(16, protobufEs),
  appendBatch(1000, protobufEs),
  catchUpCase(protobufEs),
  unaryRunlog(16, v8Pool4),
  appendBatch(100, v8Pool4),
  appendBatch(1000, v8Pool4),
  catchUpCase(v8Pool4),
  fanOutThroughput(100, v8Pool4),
  fanOutLatency(10, v8Pool4),
];

/** The current server (numerator) against the same server under another flavour's node flags, on the same workloads. */
function flagRatios(name: string, label: string): RatioSpec[] {
  const note = `runlog's server with src/cli/node-flags.ts against ${label}`;
  const ratio = (what: string, workload: string, metric?: string): RatioSpec => ({
    name: `${name}: ${what}, current / ${label}`,
    numerator: `runlog.grpc.${workload}`,
    denominator: `experiment.${name}.grpc.${workload}`,
    ...(metric !== undefined && { metric }),
    note,
  });
  return [
    ratio("unary Append c16", "append.unary.c16"),
    ratio("AppendBatch 100", "append-batch.b100"),
    ratio("AppendBatch 1000", "append-batch.b1000"),
    ratio("catch-up", "subscribe.catch-up"),
    ratio("fan-out to 100", "fan-out.s100.throughput"),
    ratio("p99 append→delivery at 10 subscribers (time ratio)", "fan-out.s10.latency-1k-per-s", "p99 ms"),
  ];
}

/** The ratio of a variant to the current server on one workload (for the `ratios` list below). */
export const variantRatio = (variant: Variant, label: string, workload: string): RatioSpec => ({
  name: `${variant.name}: ${label}, patched / current`,
  numerator: `experiment.${variant.name}.${workload}`,
  denominator: `runlog.${workload}`,
  note: variant.description,
});

export const experiments: CorpusGroup = {
  group: "experiments: proposed src/ changes, measured on patched copies",
  cases,
  ratios: [
    { name: "noop-append (diagnostic): server CPU per call c64, no-op handler / bare grpc-js echo", numerator: "experiment.noop-append.grpc.append.unary.c64", denominator: "ceiling.grpc-js.echo.unary.c64", metric: "server CPU µs/call", note: "what runlog's transport stack costs per call on top of grpc-js itself" },
    { name: "noop-append (diagnostic): server CPU per call c64, real handler / no-op handler", numerator: "runlog.grpc.append.unary.c64", denominator: "experiment.noop-append.grpc.append.unary.c64", metric: "server CPU µs/call", note: "what the Append handler path costs on top of the stack" },
    { name: "compiled codec (OPTIMISATIONS 10): unary Append c16, current / protobuf-es", numerator: "runlog.grpc.append.unary.c16", denominator: "experiment.protobuf-es-codec.grpc.append.unary.c16" },
    { name: "compiled codec (OPTIMISATIONS 10): unary Append c16 server CPU per call, protobuf-es / current", numerator: "experiment.protobuf-es-codec.grpc.append.unary.c16", denominator: "runlog.grpc.append.unary.c16", metric: "server CPU µs/call" },
    { name: "compiled codec (OPTIMISATIONS 10): AppendBatch 1000, current / protobuf-es", numerator: "runlog.grpc.append-batch.b1000", denominator: "experiment.protobuf-es-codec.grpc.append-batch.b1000" },
    { name: "compiled codec (OPTIMISATIONS 10): AppendBatch 1000 server CPU per event, protobuf-es / current", numerator: "experiment.protobuf-es-codec.grpc.append-batch.b1000", denominator: "runlog.grpc.append-batch.b1000", metric: "server CPU µs/event" },
    { name: "compiled codec (OPTIMISATIONS 10): catch-up, current / protobuf-es", numerator: "runlog.grpc.subscribe.catch-up", denominator: "experiment.protobuf-es-codec.grpc.subscribe.catch-up" },
    { name: "compiled codec (OPTIMISATIONS 10): catch-up server CPU per event, protobuf-es / current", numerator: "experiment.protobuf-es-codec.grpc.subscribe.catch-up", denominator: "runlog.grpc.subscribe.catch-up", metric: "server CPU µs/event" },
    { name: "compiled (tsc, no tsx): unary Append c16, compiled / tsx", numerator: "experiment.compiled.grpc.append.unary.c16", denominator: "runlog.grpc.append.unary.c16", note: "the same sources compiled by tsc and run by plain node, against the server run through tsx as npm start and bin/runlog.js do" },
    { name: "compiled (tsc, no tsx): unary Append c64, compiled / tsx", numerator: "experiment.compiled.grpc.append.unary.c64", denominator: "runlog.grpc.append.unary.c64", note: "the same sources compiled by tsc and run by plain node" },
    ...flagRatios("v8-pool-4", "node's default of 4 V8 worker threads"),
  ],
};

