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
  at = 0;
  while (at < end) {
    const tag = varint(bytes);
    switch (tag & 7) {
      case WireType.Varint:
        if (varint(bytes) < 0) return undefined;
        break;
      case WireType.Bit64:
        at += 8;
        break;
      case WireType.Bit32:
        at += 4;
        break;
      case WireType.LengthDelimited: {
        const length = varint(bytes);
        if (tag < 0 || length < 0 || at + length > end) return undefined;
        if (tag === wanted) elements.push(bytes.subarray(at, at + length));
        at += length;
        break;
      }
      default:
        return undefined; // groups (not in runlog's messages), or a malformed tag
    }
  }
  return at === end && elements.length === count ? elements : undefined;
}

/** receivedElements' read position (a module variable: a closure over a local one cost as much again as the scan). */
let at = 0;

/** The varint at `at` (up to 35 bits), moving past it; -1 when truncated or longer. */
function varint(bytes: Uint8Array): number {
  let result = 0;
  let scale = 1; // 2^(7 × bytes read): a multiplication, where 2 ** shift was a call to pow
  for (let i = 0; i < 5; i++) {
    const b = bytes[at++];
    if (b === undefined) return -1;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  return -1;
}
