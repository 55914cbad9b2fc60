// The bytes a request arrived as, where the transport has them (the gRPC port
// decodes requests itself; connect-node's HTTP port does not say), so that
// Append and AppendBatch can hand the store each event's encoding as the
// client sent it: a store that keeps events encoded then copies those bytes
// instead of encoding every event again (bench/OPTIMISATIONS.md,
// "bytes-first memory store").
import { WireType } from "@bufbuild/protobuf/wire";

const received = new WeakMap<object, Uint8Array>();

/** Records that `message` was decoded from `bytes` (which must not change afterwards). */
export function rememberReceived(message: object, bytes: Uint8Array): void {
  received.set(message, bytes);
}

/**
 * The encoding of each element of the length-delimited field `field` of
 * `message`'s top level, as received: exactly `count` of them, or undefined
 * (bytes not known, or a count or shape that does not match what was decoded:
 * a singular field sent twice is merged by decoders, so it has no one encoding).
 */
export function receivedElements(message: object, field: number, count: number): Uint8Array[] | undefined {
  const bytes = received.get(message);
  if (bytes === undefined) return undefined;
  const elements: Uint8Array[] = [];
  const wanted = (field << 3) | WireType.LengthDelimited;
  const end = bytes.length;
  let pos = 0;
  while (pos < end) {
    // The tag, then the value it announces; a varint longer than 5 bytes is not one of ours.
    let tag = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[pos++];
      if (b === undefined || shift > 28) return undefined;
      tag += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    switch (tag & 7) {
      case WireType.Varint:
        while (pos < end && bytes[pos]! >= 0x80) pos++;
        pos++;
        break;
      case WireType.Bit64:
        pos += 8;
        break;
      case WireType.Bit32:
        pos += 4;
        break;
      case WireType.LengthDelimited: {
        let length = 0;
        for (let shift = 0; ; shift += 7) {
          const b = bytes[pos++];
          if (b === undefined || shift > 28) return undefined;
          length += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) break;
        }
        if (pos + length > end) return undefined;
        if (tag === wanted) elements.push(bytes.subarray(pos, pos + length));
        pos += length;
        break;
      }
      default:
        return undefined; // groups: not in runlog's messages
    }
  }
  return pos === end && elements.length === count ? elements : undefined;
}
