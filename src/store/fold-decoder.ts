// The decoder for LoadOptions.foldOnly loads, one for every store that decodes
// stored Event bytes: the fields the reconstructor's fold never reads, a third
// of an event's decoding (a 36-character ID and the benchmark events' trace
// metadata; bench/OPTIMISATIONS.md 19 and 25), are stepped over and left empty.
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { codecFor, decoderWithout } from "../codec/codec.js";

/** Decodes a stored Event for the fold: metadata and id left empty. */
export const decodeForFold: (bytes: Uint8Array) => Event = decoderWithout(EventSchema, ["metadata", "id"]) ?? codecFor(EventSchema).decode;

/**
 * decodeForFold for bytes that live as long as the store holding them (the
 * memory store's slabs): JSON values stay encoded until read (lazy-value.ts).
 * The fold only holds them by reference, and a snapshot or a RunState response
 * copies their bytes, so a replay decodes none of them.
 */
export const decodeForFoldKeepingBytes: (bytes: Uint8Array) => Event =
  decoderWithout(EventSchema, ["metadata", "id"], { lazyValues: true }) ?? decodeForFold;
