// The memory store's events, held (by default) as their protobuf encoding (runlog.v1.Event,
// the bytes every binary reader is sent) in a few large buffers, with the
// fields reads filter on in typed columns.
//
// Held as decoded objects, each event was some thirty heap objects that lived
// forever: every one was copied twice by the young-generation collector and
// marked again by every full collection, so an append cost more the more the
// store held (AppendBatch of 1,000 fell from 230,000 to 117,000 events/s within
// 7 s of one run, bench/OPTIMISATIONS.md "bytes-first memory store"). Bytes in
// buffers are not scanned by the collector at all, and Load, ReadLog and
// Subscribe send them as they are; in-process readers get decoded copies.
import { EventSchema, type Event, type EventType } from "../../../gen/runlog/v1/event_pb.js";
import { codecFor } from "../../codec/codec.js";
import { rebaseLazyValues } from "../../codec/lazy-value.js";
import { varintSize, writeVarint } from "../../codec/varint.js";
import { flat } from "../compact.js";
import { decodeForFoldKeepingBytes } from "../fold-decoder.js";
import { Column } from "./column.js";

const eventCodec = codecFor(EventSchema);

/** Buffers start small (an empty store stays small) and double up to this size. */
const largestSlab = 4 * 1024 * 1024;
const firstSlab = 64 * 1024;

/** How the memory store holds its events: encoded (the default; the server's) or as the objects appended. */
export type MemoryLayout = "bytes" | "objects";

export interface EventLog {
  /** Events held; event i has position i + 1. */
  readonly length: number;
  /**
   * Stores `event` (sequence and position already set) at the next index;
   * `run`: the index of its run, for run(). With `received`, the encoding of
   * `source` as the client sent it (`event` is `source` normalized), keeps those
   * bytes and writes after them only the fields normalizing changed.
   */
  push(event: Event, run: number, received?: Uint8Array, source?: Event): void;
  /** Bytes layout only: the stored bytes of event `index`, a view of the log's memory, never to be changed. */
  readonly bytes?: (index: number) => Uint8Array;
  /**
   * Event `index`: a fresh decoded copy (metadata and id left empty when
   * `foldOnly`), or (objects layout) the stored object, never to be changed.
   */
  event(index: number, foldOnly?: boolean): Event;
  type(index: number): EventType;
  stepName(index: number): string;
  run(index: number): number;
  /**
   * Objects layout only: events start … end - 1 of run `run` (by sequence - 1),
   * or of the whole log (run undefined, by position - 1), as one array that
   * does not change afterwards (frozen when it is all of them: see createObjectLog).
   */
  readonly slice?: (run: number | undefined, start: number, end: number) => readonly Event[];
}

export function createEventLog(layout: MemoryLayout): EventLog {
  return layout === "objects" ? createObjectLog() : createEncodedLog();
}

function createEncodedLog(): EventLog {
  const slabs: Buffer[] = [];
  let slab = Buffer.alloc(0);
  let used = 0;
  const slabOf = new Column();
  const offsetOf = new Column();
  const lengthOf = new Column();
  const typeOf = new Column();
  const runOf = new Column();
  /** Step names repeat: each distinct one once, and its number per event. */
  const stepNames: string[] = [];
  const stepNumbers = new Map<string, number>();
  const stepOf = new Column();
  let length = 0;

  function room(bytes: number): void {
    if (slab.length - used >= bytes) return;
    const size = Math.max(bytes, Math.min(largestSlab, slab.length * 2 || firstSlab));
    slab = Buffer.allocUnsafeSlow(size); // only the bytes written are ever read
    slabs.push(slab);
    used = 0;
  }

  function record(index: number, offset: number, size: number, event: Event, run: number): void {
    slabOf.set(index, slabs.length - 1);
    offsetOf.set(index, offset);
    lengthOf.set(index, size);
    typeOf.set(index, event.type);
    runOf.set(index, run);
    let step = stepNumbers.get(event.stepName);
    if (step === undefined) {
      step = stepNames.push(flat(event.stepName)) - 1;
      stepNumbers.set(event.stepName, step);
    }
    stepOf.set(index, step);
  }

  function bytes(index: number): Uint8Array {
    const offset = offsetOf.get(index);
    return slabs[slabOf.get(index)]!.subarray(offset, offset + lengthOf.get(index));
  }

  return {
    get length() {
      return length;
    },
    push(event, run, received, source) {
      const index = length++;
      // Top-level unknown fields are dropped by normalizing: then the received bytes are not the event.
      if (received !== undefined && source !== undefined && source.$unknown === undefined) {
        room(received.length + normalizedRoom(event));
        slab.set(received, used);
        const end = writeNormalized(slab, used + received.length, source, event);
        if (end >= 0) {
          // Its unread JSON values now read the slab, which is kept, not the request.
          rebaseLazyValues(source, received, slab, used);
          record(index, used, end - used, event, run);
          used = end;
          return;
        }
      }
      const encoded = eventCodec.encode(event);
      room(encoded.length);
      slab.set(encoded, used);
      record(index, used, encoded.length, event, run);
      used += encoded.length;
    },
    bytes,
    // The slabs are never freed or written again: a fold's unread JSON values may keep reading them.
    event: (index, foldOnly) => (foldOnly ? decodeForFoldKeepingBytes : eventCodec.decode)(bytes(index)),
    type: (index) => typeOf.get(index) as EventType,
    stepName: (index) => stepNames[stepOf.get(index)]!,
    run: (index) => runOf.get(index),
  };
}

/**
 * The objects layout: the normalized events themselves, handed out to readers
 * as they are (as emmett's in-memory store does). Reads cost nothing; every
 * event held is some thirty heap objects the collector keeps walking, which is
 * why the server does not use it (bench/OPTIMISATIONS.md, "bytes-first memory
 * store"). For embedding the store in a process that holds few events.
 */
function createObjectLog(): EventLog {
  let events: Event[] = [];
  /** By run number: its events by sequence - 1. */
  const byRun: Event[][] = [];
  const runOf = new Column();
  return {
    get length() {
      return events.length;
    },
    push(event, run) {
      runOf.set(events.length, run);
      if (Object.isFrozen(events)) events = events.slice();
      events.push(event);
      let own = byRun[run];
      if (own === undefined) byRun[run] = own = [];
      else if (Object.isFrozen(own)) byRun[run] = own = own.slice();
      own.push(event);
    },
    // A read of all of a run's events (the usual load) gets the run's own array, frozen, and
    // the next append to the run copies it first (copy on write): repeated reads of a run cost
    // nothing per event, where a copy per read was what emmett's in-memory store pays too.
    slice(run, start, end) {
      const all = run === undefined ? events : (byRun[run] ?? []);
      return start === 0 && end >= all.length ? Object.freeze(all) : all.slice(start, end);
    },
    event: (index) => events[index]!,
    type: (index) => events[index]!.type,
    stepName: (index) => events[index]!.stepName,
    run: (index) => runOf.get(index),
  };
}

// The fields of `event` that normalizing `source` changed (prepare.ts: id,
// sequence, version, type, a missing timestamp) and the position, written after
// the bytes `source` was received as, make the whole decode as `event`: a
// protobuf reader keeps the last value of a scalar field. The timestamp is only
// written where the source had none (a message field would be merged). Written
// here rather than by the codec, which for these few fields took 0.35 µs an
// event, more than copying the received bytes.

const tagId = (1 << 3) | 2;
const tagSequence = 3 << 3;
const tagVersion = 4 << 3;
const tagType = 5 << 3;
const tagTimestamp = (8 << 3) | 2;
const tagPosition = 10 << 3;

/** At most the bytes writeNormalized writes for `event`. */
function normalizedRoom(event: Event): number {
  return 3 * event.id.length + 96;
}

/**
 * Writes the normalized fields at `at` in `into` (room made by normalizedRoom)
 * and returns where they end; -1 when a value is beyond these simple writers
 * (then nothing written counts and the caller encodes the event whole).
 */
function writeNormalized(into: Buffer, at: number, source: Event, event: Event): number {
  if (event.id !== source.id) {
    into[at++] = tagId;
    at = string(into, at, event.id);
  }
  if (event.sequence !== source.sequence) {
    if (event.sequence < 1n || event.sequence > maxSafe) return -1;
    into[at++] = tagSequence;
    at = writeVarint(into, at, Number(event.sequence));
  }
  if (event.version !== source.version) {
    if (event.version < 1) return -1;
    into[at++] = tagVersion;
    at = writeVarint(into, at, event.version);
  }
  if (event.type !== source.type) {
    if (event.type < 1) return -1;
    into[at++] = tagType;
    at = writeVarint(into, at, event.type);
  }
  if (source.timestamp === undefined && event.timestamp !== undefined) {
    const { seconds, nanos } = event.timestamp;
    if (seconds < 1n || seconds > maxSafe || nanos < 0 || event.timestamp.$unknown !== undefined) return -1;
    const s = Number(seconds);
    const body = 1 + varintSize(s) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
    into[at++] = tagTimestamp;
    into[at++] = body;
    into[at++] = 1 << 3;
    at = writeVarint(into, at, s);
    if (nanos !== 0) {
      into[at++] = 2 << 3;
      at = writeVarint(into, at, nanos);
    }
  }
  if (event.position < 1n || event.position > maxSafe) return -1;
  into[at++] = tagPosition;
  return writeVarint(into, at, Number(event.position));
}

/** A length-prefixed UTF-8 string; ASCII up to 127 characters (UUIDs) without a call into the runtime. */
function string(into: Buffer, at: number, value: string): number {
  const n = value.length;
  if (n < 128) {
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 128) break;
      into[at + 1 + i] = c;
    }
    if (i === n) {
      into[at] = n;
      return at + 1 + n;
    }
  }
  const size = Buffer.byteLength(value);
  at = writeVarint(into, at, size);
  return at + into.write(value, at, size, "utf8");
}

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);
