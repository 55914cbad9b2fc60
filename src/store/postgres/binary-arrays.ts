// One-dimensional PostgreSQL arrays in the binary wire format (array_send /
// array_recv), for the parameters of append_events(). pg sends a Buffer parameter in
// binary format, so these skip what text arrays cost on both sides: pg quoting and
// escaping every element into an array literal (bytea as hex, twice the bytes on the
// socket), PostgreSQL parsing it back (array_in, byteain, uuid_in, int8in).
//
// Layout: ndim (1, or 0 for an empty array), has-nulls flag, element type OID, then
// for the dimension its length and lower bound (1), then each element as a 4-byte
// length (-1 for NULL) and its binary value (big-endian integers, 16-byte UUIDs, raw
// bytes, UTF-8 text). The element type must be the one the statement casts the
// parameter to ($n::bytea[] …): array_recv refuses another.

const oid = { bool: 16, bytea: 17, int8: 20, int2: 21, int4: 23, text: 25, uuid: 2950 } as const;

class Writer {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  header(elementOid: number, count: number, hasNull: boolean): void {
    if (count === 0) {
      this.buf.writeInt32BE(0, 0);
      this.buf.writeInt32BE(0, 4);
      this.buf.writeInt32BE(elementOid, 8);
      this.at = 12;
      return;
    }
    this.buf.writeInt32BE(1, 0);
    this.buf.writeInt32BE(hasNull ? 1 : 0, 4);
    this.buf.writeInt32BE(elementOid, 8);
    this.buf.writeInt32BE(count, 12);
    this.buf.writeInt32BE(1, 16);
    this.at = 20;
  }
  done(): Buffer {
    return this.at === this.buf.length ? this.buf : this.buf.subarray(0, this.at);
  }
}

function fixed<T>(
  elementOid: number,
  width: number,
  values: readonly (T | null)[],
  write: (buf: Buffer, at: number, value: T) => void,
): Buffer {
  const n = values.length;
  let hasNull = false;
  for (let i = 0; i < n; i++) if (values[i] === null) hasNull = true;
  const w = new Writer(20 + n * (4 + width));
  w.header(elementOid, n, hasNull);
  const buf = w.buf;
  let at = w.at;
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    if (value === null) {
      buf.writeInt32BE(-1, at);
      at += 4;
      continue;
    }
    buf.writeInt32BE(width, at);
    write(buf, at + 4, value);
    at += 4 + width;
  }
  w.at = at;
  return w.done();
}

export function int8Array(values: readonly (bigint | null)[]): Buffer {
  return fixed(oid.int8, 8, values, (buf, at, v) => buf.writeBigInt64BE(v, at));
}

export function int4Array(values: readonly (number | null)[]): Buffer {
  return fixed(oid.int4, 4, values, (buf, at, v) => buf.writeInt32BE(v, at));
}

export function int2Array(values: readonly number[]): Buffer {
  return fixed(oid.int2, 2, values, (buf, at, v) => buf.writeInt16BE(v, at));
}

export function boolArray(values: readonly boolean[]): Buffer {
  return fixed(oid.bool, 1, values, (buf, at, v) => (buf[at] = v ? 1 : 0));
}

/** UUIDs in their canonical text form (8-4-4-4-12 hex digits), as prepareBatch leaves them. */
export function uuidArray(values: readonly string[]): Buffer {
  return fixed(oid.uuid, 16, values, writeUuid);
}

function writeUuid(buf: Buffer, at: number, id: string): void {
  if (id.length !== 36) throw new TypeError(`not a UUID: ${id}`);
  // Four hex runs between the dashes (positions 8, 13, 18, 23).
  const written =
    buf.write(id.slice(0, 8), at, 4, "hex") +
    buf.write(id.slice(9, 13), at + 4, 2, "hex") +
    buf.write(id.slice(14, 18), at + 6, 2, "hex") +
    buf.write(id.slice(19, 23), at + 8, 2, "hex") +
    buf.write(id.slice(24, 36), at + 10, 6, "hex");
  if (written !== 16) throw new TypeError(`not a UUID: ${id}`);
}

export function byteaArray(values: readonly Uint8Array[]): Buffer {
  const n = values.length;
  let size = 20;
  for (let i = 0; i < n; i++) size += 4 + values[i]!.length;
  const w = new Writer(size);
  w.header(oid.bytea, n, false);
  const buf = w.buf;
  let at = w.at;
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    buf.writeInt32BE(value.length, at);
    buf.set(value, at + 4);
    at += 4 + value.length;
  }
  w.at = at;
  return w.done();
}

export function textArray(values: readonly string[]): Buffer {
  const n = values.length;
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  let size = 20;
  for (let i = 0; i < n; i++) size += 4 + values[i]!.length * 3;
  const w = new Writer(size);
  w.header(oid.text, n, false);
  const buf = w.buf;
  let at = w.at;
  for (let i = 0; i < n; i++) {
    const written = buf.write(values[i]!, at + 4, "utf8");
    buf.writeInt32BE(written, at);
    at += 4 + written;
  }
  w.at = at;
  return w.done();
}
