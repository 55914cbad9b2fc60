// The corpus: every group of cases, in the order they run and are reported.
import type { CorpusGroup } from "../lib/bench-case.js";
import { breakdown } from "./breakdown.js";
import { connectCases } from "./connect.js";
import { experiments } from "./experiments.js";
import { grpcCases } from "./grpc.js";
import { inProcess } from "./in-process.js";
import { peersEmmettMemory } from "./peers-emmett.js";
import { memory } from "./memory.js";
import { peersNats } from "./peers-nats.js";
import { postgres } from "./postgres.js";
import { reconstruct } from "./reconstruct.js";

export const corpus: readonly CorpusGroup[] = [inProcess, reconstruct, breakdown, memory, grpcCases, connectCases, peersEmmettMemory, postgres, peersNats, experiments];
