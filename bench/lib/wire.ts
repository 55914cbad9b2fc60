// A minimal protobuf wire-format scanner for the benchmark clients: counting
// events in a response, reading a position or an event id, without decoding
// whole messages. The server is measured, not the client's decoder.

export interface Cursor {
  pos: number;
}

export function readVarint(buf: Uint8Array, c: Cursor): number {
  let result = 0;
  let shift = 1;
  for (;;) {
    const b = buf[c.pos++]!;
    result += (b & 0x7f) * shift;
    if (b < 0x80) return result;
    shift *= 128;
  }
}

function skip(buf: Uint8Array, c: Cursor, wireType: number): void {
  switch (wireType) {
    case 0:
      while (buf[c.pos++]! >= 0x80);
      return;
    case 1:
      c.pos += 8;
      return;
    case 2: {
      const len = readVarint(buf, c);
      c.pos += len;
      return;
    }
    case 5:
      c.pos += 4;
      return;
    default:
      throw new Error(`unsupported wire type ${wireType}`);
  }
}

/** Calls `fn(field, start, end)` for each length-delimited field, `fn(field, value, -1)` for varints. */
export function forEachField(
  buf: Uint8Array,
  start: number,
  end: number,
  fn: (field: number, a: number, b: number) => void,
): void {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint(buf, c);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === 2) {
      const len = readVarint(buf, c);
      fn(field, c.pos, c.pos + len);
      c.pos += len;
    } else if (wireType === 0) {
      fn(field, readVarint(buf, c), -1);
    } else {
      skip(buf, c, wireType);
    }
  }
}

/** The first varint field `field` in [start, end), or undefined. */
export function varintField(buf: Uint8Array, start: number, end: number, field: number): number | undefined {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint(buf, c);
    const wireType = tag & 7;
    if (tag >>> 3 === field && wireType === 0) return readVarint(buf, c);
    skip(buf, c, wireType);
  }
  return undefined;
}

/** The first length-delimited field `field` in [start, end) as [start, end), or undefined. */
export function bytesField(buf: Uint8Array, start: number, end: number, field: number): [number, number] | undefined {
  const c: Cursor = { pos: start };
  while (c.pos < end) {
    const tag = readVarint(buf, c);
    const wireType = tag & 7;
    if (tag >>> 3 === field && wireType === 2) {
      const len = readVarint(buf, c);
      return [c.pos, c.pos + len];
    }
    skip(buf, c, wireType);
  }
  return undefined;
}

/** Field numbers of runlog.v1 messages the scanner reads. */
export const F = {
  eventId: 1,
  eventPosition: 10,
  eventSequence: 3,
  /** LoadResponse / ReadLogResponse / EventBatch: repeated Event events = 1 */
  events: 1,
  readLogNextAfter: 2,
  readLogHasMore: 3,
  loadNextAfter: 2,
  loadHasMore: 3,
  subscribeEvents: 1,
  subscribeCaughtUp: 2,
  subscribeCheckpoint: 3,
  subscribeFellBehind: 4,
} as const;

export interface SubscribeScan {
  /** 1 events, 2 caught_up, 3 checkpoint, 4 fell_behind, 0 unknown. */
  kind: number;
  /** Events in an events message. */
  count: number;
  /** Start and end offsets of each event (pairs), when asked for. */
  spans?: number[];
}

/** Scans one SubscribeResponse. With `spans`, fills it with [start, end) pairs of each event. */
export function scanSubscribeResponse(buf: Uint8Array, spans?: number[]): SubscribeScan {
  const c: Cursor = { pos: 0 };
  if (buf.length === 0) return { kind: 0, count: 0 };
  const tag = readVarint(buf, c);
  const kind = tag >>> 3;
  if (kind !== F.subscribeEvents) return { kind, count: 0 };
  const len = readVarint(buf, c);
  const end = c.pos + len;
  let count = 0;
  if (spans) spans.length = 0;
  while (c.pos < end) {
    const t = readVarint(buf, c);
    if (t >>> 3 === F.events && (t & 7) === 2) {
      const l = readVarint(buf, c);
      if (spans) spans.push(c.pos, c.pos + l);
      c.pos += l;
      count++;
    } else skip(buf, c, t & 7);
  }
  return { kind, count };
}

/** Counts `repeated Event events = 1` at the top level of a LoadResponse / ReadLogResponse. */
export function countEvents(buf: Uint8Array): number {
  let count = 0;
  forEachField(buf, 0, buf.length, (field, _a, b) => {
    if (field === F.events && b >= 0) count++;
  });
  return count;
}

/**
 * Benchmark event ids carry an index in their last 12 hex digits:
 * 00000000-0000-4000-8000-XXXXXXXXXXXX. Returns it, or -1.
 */
export function indexFromEventId(buf: Uint8Array, start: number, end: number): number {
  const id = bytesField(buf, start, end, F.eventId);
  if (!id || id[1] - id[0] !== 36) return -1;
  let v = 0;
  for (let i = id[1] - 12; i < id[1]; i++) {
    const ch = buf[i]!;
    const d = ch <= 57 ? ch - 48 : (ch | 0x20) - 87;
    v = v * 16 + d;
  }
  return v;
}

export function indexedEventId(index: number, tag = 0): string {
  return `${tag.toString(16).padStart(8, "0")}-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}
