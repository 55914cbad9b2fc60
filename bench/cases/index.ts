// The corpus: every group of cases, in the order they run and are reported.
import type { CorpusGroup } from "../lib/bench-case.js";
import { inProcess } from "./in-process.js";
import { peersEmmettMemory } from "./peers-emmett.js";
import { peersNats } from "./peers-nats.js";

export const corpus: readonly CorpusGroup[] = [inProcess, peersEmmettMemory, peersNats];
