// The decoder for LoadOptions.foldOnly loads, one for every store that decodes
// stored Event bytes: the fields the reconstructor's fold never reads, a third
// of an event's decoding (a 36-character ID and the benchmark events' trace
// metadata; bench/OPTIMISATIONS.md 19 and 25), are stepped over and left empty.
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { codecFor, decoderWithout } from "../codec/codec.js";

/** Decodes a stored Event for the fold: metadata and id left empty. */
export const decodeForFold: (bytes: Uint8Array) => Event = decoderWithout(EventSchema, ["metadata", "id"]) ?? codecFor(EventSchema).decode;
