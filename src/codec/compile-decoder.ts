// A binary decoder compiled for one protobuf-es schema: JavaScript source
// written from the descriptors (a function per message, a switch on the tag,
// the message created as one object literal), then evaluated once. It returns
// exactly what protobuf-es's fromBinary returns (same fields, same zero values,
// unknown fields in $unknown, repeated message fields merged), 4–6× faster on
// runlog's events (bench/OPTIMISATIONS.md). codec.ts decides when it is used.
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isUtf8 } from "node:buffer";
import { LazyValue } from "./lazy-value.js";
import { emptyMessageSource, scalarWireType, scalarZeroSource, tagValue } from "./schema-walk.js";

export type Decoder = (bytes: Uint8Array) => unknown;

/** protobuf-es's limit, so that both decoders accept the same inputs. */
const recursionLimit = 100;

/** ASCII strings up to this many bytes are interned. */
const shortString = 32;
const internSlots = 4096;

// The runtime the generated functions share: the input, the read position and
// readers for each wire representation. Reading past the input yields
// `undefined` bytes, which every reader turns into an error or a position past
// the end, which each message's loop checks.
const prelude = `
const UNSET = Object.freeze({ case: undefined });
let buf = EMPTY;
let view = EMPTY_BUFFER;
let pos = 0;

function eof() { return new RangeError("premature EOF"); }

function varint32() {
  let b = buf[pos++];
  let r = b & 0x7f;
  if (b < 0x80) return r;
  b = buf[pos++]; r |= (b & 0x7f) << 7; if (b < 0x80) return r;
  b = buf[pos++]; r |= (b & 0x7f) << 14; if (b < 0x80) return r;
  b = buf[pos++]; r |= (b & 0x7f) << 21; if (b < 0x80) return r;
  b = buf[pos++]; r |= (b & 0x0f) << 28; if (b < 0x80) return r;
  for (let i = 0; i < 5; i++) if (buf[pos++] < 0x80) return r;
  throw new Error("invalid varint");
}

function varint64(signed) {
  let b = buf[pos++];
  if (b < 0x80) return BigInt(b);
  let n = b & 0x7f;
  let mul = 128;
  for (let i = 1; i < 7; i++) {
    b = buf[pos++];
    n += (b & 0x7f) * mul;
    if (b < 0x80) return BigInt(n);
    mul *= 128;
  }
  let big = BigInt(n);
  let shift = 49n;
  for (let i = 7; i < 10; i++) {
    b = buf[pos++];
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big);
    shift += 7n;
  }
  throw new Error("invalid varint");
}

function len(end) {
  const n = varint32();
  if (n < 0 || n > end - pos) throw eof();
  return n;
}

function fixed32() {
  const v = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
  pos += 4;
  return v;
}

function fixed64() {
  const lo = BigInt(fixed32());
  return (BigInt(fixed32()) << 32n) | lo;
}

const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);
function double() {
  for (let i = 0; i < 8; i++) f64bytes[i] = buf[pos + i];
  pos += 8;
  return f64[0];
}

const f32 = new Float32Array(1);
const f32bytes = new Uint8Array(f32.buffer);
function float() {
  for (let i = 0; i < 4; i++) f32bytes[i] = buf[pos + i];
  pos += 4;
  return f32[0];
}

// Short ASCII strings repeat (map keys, JSON keys, step names, run IDs): an
// interning table turns most of them into a hash and a compare instead of a new
// string (a native call of 130–200 ns here), and repeats share one string.
const internStrings = new Array(${internSlots}).fill("");

function readString(end, strict) {
  const n = len(end);
  const start = pos;
  pos += n;
  let slot = -1;
  if (n <= ${shortString}) {
    if (n === 0) return "";
    // The slot from the length and three bytes; a hit is confirmed byte by byte
    // against the cached string (ASCII only, so equal bytes mean equal strings).
    slot = (n * 7919 + buf[start] * 31 + buf[pos - 1] * 1021 + buf[start + (n >> 1)] * 131 + buf[pos - 2 + (n === 1 ? 1 : 0)]) & ${internSlots - 1};
    const cached = internStrings[slot];
    if (cached.length === n) {
      let j = 0;
      while (j < n && cached.charCodeAt(j) === buf[start + j]) j++;
      if (j === n) return cached;
    }
  }
  // Node's own UTF-8 slice, without a scan for ASCII first (that scan was as dear
  // as the slice). It replaces malformed bytes with U+FFFD: a string holding one
  // is decoded again by TextDecoder, which rejects them (strict) or agrees.
  // Well-formed, n characters from n bytes is ASCII: a short one is interned.
  const s = view.utf8Slice(start, pos);
  if (s.indexOf("\\uFFFD") === -1) {
    if (slot >= 0 && s.length === n) internStrings[slot] = s;
    return s;
  }
  return (strict ? UTF8_STRICT : UTF8_LENIENT).decode(buf.subarray(start, pos));
}

function bytes(end) {
  const n = len(end);
  pos += n;
  return buf.subarray(pos - n, pos);
}

/** Skips the value of a field whose tag was read; returns its bytes (after the tag). */
function skip(tag, end, depth) {
  const start = pos;
  switch (tag & 7) {
    case 0: while (buf[pos++] >= 0x80); break;
    case 1: pos += 8; break;
    case 2: { const n = len(end); pos += n; break; }
    case 5: pos += 4; break;
    case 3: {
      if (depth > ${recursionLimit}) throw new Error("cannot decode: maximum recursion depth reached");
      for (;;) {
        if (pos >= end) throw eof();
        const t = varint32();
        if ((t & 7) === 4) { if ((t >>> 3) !== (tag >>> 3)) throw new Error("invalid end group tag"); break; }
        skip(t, end, depth + 1);
      }
      break;
    }
    default: throw new Error("cannot skip wire type " + (tag & 7));
  }
  if (pos > end) throw eof();
  return buf.subarray(start, pos);
}

function unknown(m, tag, end, depth) {
  const data = skip(tag, end, depth);
  const field = { no: tag >>> 3, wireType: tag & 7, data };
  if (m.$unknown === undefined) m.$unknown = [field];
  else m.$unknown.push(field);
}

// Lazy google.protobuf.Value fields (lazy-value.ts): a walk over the bytes, from
// wpos, that answers whether decoding them is certain to succeed and to leave no
// unknown fields — the depth limit, lengths within bounds, varints that end,
// well-formed UTF-8 — without making anything. Anything else (an unknown field,
// a wire type the field does not have) answers no, and the field is decoded now.
let wpos = 0;

/** A length at wpos, moving past it; -1 when it does not end within 5 bytes before end, or runs past end. */
function wlen(end) {
  let r = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (wpos >= end) return -1;
    const b = buf[wpos++];
    r += (b & 0x7f) * scale;
    if (b < 0x80) return r <= end - wpos ? r : -1;
    scale *= 128;
  }
  return -1;
}

function wvarint(end) {
  for (let i = 0; i < 10; i++) {
    if (wpos >= end) return false;
    if (buf[wpos++] < 0x80) return true;
  }
  return false;
}

function wstring(end) {
  const n = wlen(end);
  if (n < 0) return false;
  const e = wpos + n;
  for (let i = wpos; i < e; i++) {
    if (buf[i] >= 0x80) {
      if (!IS_UTF8(buf.subarray(wpos, e))) return false;
      break;
    }
  }
  wpos = e;
  return true;
}

function plainValue(end, depth) {
  if (depth > ${recursionLimit}) return false;
  while (wpos < end) {
    switch (buf[wpos++]) {
      case 8: case 32: if (!wvarint(end)) return false; break; // null_value, bool_value
      case 17: wpos += 8; if (wpos > end) return false; break; // number_value
      case 26: if (!wstring(end)) return false; break; // string_value
      case 42: { const n = wlen(end); if (n < 0 || !plainStruct(wpos + n, depth + 1)) return false; break; }
      case 50: { const n = wlen(end); if (n < 0 || !plainList(wpos + n, depth + 1)) return false; break; }
      default: return false;
    }
  }
  return wpos === end;
}

function plainStruct(end, depth) {
  if (depth > ${recursionLimit}) return false;
  while (wpos < end) {
    if (buf[wpos++] !== 10) return false; // fields: map entries
    const n = wlen(end);
    if (n < 0) return false;
    const e = wpos + n;
    while (wpos < e) {
      const t = buf[wpos++];
      if (t === 10) { if (!wstring(e)) return false; }
      else if (t === 18) { const m = wlen(e); if (m < 0 || !plainValue(wpos + m, depth + 1)) return false; }
      else return false;
    }
    if (wpos !== e) return false;
  }
  return wpos === end;
}

function plainList(end, depth) {
  if (depth > ${recursionLimit}) return false;
  while (wpos < end) {
    if (buf[wpos++] !== 10) return false; // values
    const n = wlen(end);
    if (n < 0 || !plainValue(wpos + n, depth + 1)) return false;
  }
  return wpos === end;
}

function setKey(record, key, value) {
  if (key === "__proto__") Object.defineProperty(record, key, { value, enumerable: true, configurable: true, writable: true });
  else record[key] = value;
}
`;

/**
 * `skipped`: length-delimited fields (message, map, string, bytes) whose bytes
 * are stepped over unread: the decoded message keeps their defaults. For readers
 * that never look at them (the reconstructor's fold and Event.metadata).
 */
export interface DecoderOptions {
  /** Length-delimited fields stepped over unread (above). */
  readonly skipped?: ReadonlySet<DescField>;
  /**
   * google.protobuf.Value fields (not those nested in a Value) decoded when
   * first read: LazyValues over the input's bytes (lazy-value.ts), for the
   * append path, which must then rebase or settle them.
   */
  readonly lazyValues?: boolean;
}

export function compileDecoder(messages: readonly DescMessage[], options: DecoderOptions = {}): Decoder {
  const skipped = options.skipped ?? new Set<DescField>();
  for (const field of skipped) {
    const lengthDelimited =
      field.fieldKind === "message" ||
      field.fieldKind === "map" ||
      (field.fieldKind === "scalar" && (field.scalar === ScalarType.STRING || field.scalar === ScalarType.BYTES));
    if (!lengthDelimited) throw new Error(`cannot skip ${field.parent.typeName}.${field.name}: only length-delimited fields can be skipped`);
  }
  const index = new Map(messages.map((m, i) => [m.typeName, i]));
  const valueIndex = index.get(valueTypeName);
  const lazy = options.lazyValues === true && valueIndex !== undefined;
  const functions = messages.map((m, i) => messageDecoder(m, i, index, skipped, lazy && m.typeName !== valueTypeName && !inValue.has(m.typeName)));
  // Decodes a LazyValue's bytes when it is first read; the state of a decode in progress is kept.
  const valueAt = !lazy
    ? ""
    : `function decodeValueAt(bytes, start, end) {
  const b = buf, v = view, p = pos;
  buf = bytes;
  view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = start;
  try {
    return d${valueIndex}(end, 1, undefined);
  } finally {
    buf = b;
    view = v;
    pos = p;
  }
}`;
  const source = `${prelude}\n${functions.join("\n")}\n${valueAt}\nreturn function decode(bytes) {
  buf = bytes;
  view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  try {
    return d0(bytes.length, 1, undefined);
  } finally {
    buf = EMPTY;
    view = EMPTY_BUFFER;
  }
};`;
  const factory = new Function("EMPTY", "EMPTY_BUFFER", "UTF8_STRICT", "UTF8_LENIENT", "Buffer", "IS_UTF8", "LAZY", source) as (
    ...args: unknown[]
  ) => Decoder;
  return factory(
    new Uint8Array(0),
    Buffer.alloc(0),
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }),
    new TextDecoder("utf-8", { ignoreBOM: true }),
    Buffer,
    isUtf8,
    LazyValue,
  );
}

const valueTypeName = "google.protobuf.Value";
/** The messages a Value is made of: a Value inside them is decoded with the Value. */
const inValue = new Set(["google.protobuf.Struct", "google.protobuf.ListValue"]);

function messageDecoder(
  message: DescMessage,
  i: number,
  index: ReadonlyMap<string, number>,
  skipped: ReadonlySet<DescField>,
  lazyValues: boolean,
): string {
  const cases = message.fields
    .map((field) => {
      // Not `pos += len(end)`: pos would be read before len() moves it past the length.
      if (skipped.has(field)) return `      case ${tagValue(field.number, 2)}: { const n = len(end); pos += n; break; }`;
      if (lazyValues && field.fieldKind === "message" && field.message.typeName === valueTypeName) return lazyValueCase(field, index);
      return fieldCases(field, index);
    })
    .join("\n");
  // A oneof starts as the shared UNSET and gets its own { case: undefined } only if
  // nothing set it: most decoded oneofs are set, and this saves an object for each.
  const unset = message.oneofs
    .map((o) => `  if (m[${JSON.stringify(o.localName)}] === UNSET) m[${JSON.stringify(o.localName)}] = { case: undefined };`)
    .join("\n");
  return `function d${i}(end, depth, m) {
  if (depth > ${recursionLimit}) throw new Error("cannot decode ${message.typeName} from binary: maximum recursion depth of ${recursionLimit} reached");
  if (m === undefined) m = ${emptyMessageSource(message, "UNSET")};
  while (pos < end) {
    const tag = varint32();
    switch (tag) {
${cases}
      default: unknown(m, tag, end, depth);
    }
  }
  if (pos !== end) throw eof();
${unset}
  return m;
}`;
}

/**
 * A singular Value field (or oneof member) read as a LazyValue when its bytes
 * pass the walk and the field is not set yet; otherwise decoded (merged into
 * what is there, as fromBinary does) at once.
 */
function lazyValueCase(field: DescField & { fieldKind: "message" }, index: ReadonlyMap<string, number>): string {
  const set = (value: string) => assignSource(field, value);
  const child = `d${index.get(field.message.typeName)!}`;
  return `      case ${tagValue(field.number, 2)}: {
        const n = len(end);
        const e = pos + n;
        const current = ${currentSource(field)};
        wpos = pos;
        if (current === undefined && plainValue(e, depth + 1)) {
          const v = new LAZY(buf, pos, e, decodeValueAt);
          pos = e;
          ${set("v")}
        } else {
          ${set(`${child}(e, depth + 1, current)`)}
        }
        break;
      }`;
}

/** The statement that sets `field` of message `m` (a oneof member: the oneof) to `value`. */
function assignSource(field: DescField, value: string): string {
  const name = JSON.stringify(field.localName);
  return field.oneof === undefined ? `m[${name}] = ${value};` : `m[${JSON.stringify(field.oneof.localName)}] = { case: ${name}, value: ${value} };`;
}

/** The expression for what `field` of message `m` holds so far (a oneof member: undefined unless its case is set). */
function currentSource(field: DescField): string {
  const name = JSON.stringify(field.localName);
  if (field.oneof === undefined) return `m[${name}]`;
  const oneof = `m[${JSON.stringify(field.oneof.localName)}]`;
  return `(${oneof}.case === ${name} ? ${oneof}.value : undefined)`;
}

function fieldCases(field: DescField, index: ReadonlyMap<string, number>): string {
  const name = JSON.stringify(field.localName);
  const set = (value: string) => assignSource(field, value);
  const no = field.number;
  switch (field.fieldKind) {
    case "scalar":
      return `      case ${tagValue(no, scalarWireType(field.scalar))}: ${set(scalarRead(field.scalar, field.utf8Validation))} break;`;
    case "enum":
      return `      case ${tagValue(no, 0)}: ${set("varint32()")} break;`;
    case "message": {
      const child = `d${index.get(field.message.typeName)!}`;
      return `      case ${tagValue(no, 2)}: { const n = len(end); ${set(`${child}(pos + n, depth + 1, ${currentSource(field)})`)} break; }`;
    }
    case "list": {
      if (field.listKind === "message") {
        const child = `d${index.get(field.message.typeName)!}`;
        return `      case ${tagValue(no, 2)}: { const n = len(end); m[${name}].push(${child}(pos + n, depth + 1, undefined)); break; }`;
      }
      const scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      const read = scalarRead(scalar, field.listKind === "scalar" && field.utf8Validation);
      const wireType = scalarWireType(scalar);
      const single = `      case ${tagValue(no, wireType)}: m[${name}].push(${read}); break;`;
      if (wireType === 2) return single;
      return `${single}
      case ${tagValue(no, 2)}: { const n = len(end); const e = pos + n; const items = m[${name}]; while (pos < e) items.push(${read}); if (pos !== e) throw eof(); break; }`;
    }
    case "map": {
      const keyRead = scalarRead(field.mapKey, true, "e");
      const keyTag = tagValue(1, scalarWireType(field.mapKey));
      let valueRead: string;
      let valueTag: number;
      let valueDefault: string;
      switch (field.mapKind) {
        case "message": {
          const child = `d${index.get(field.message.typeName)!}`;
          valueTag = tagValue(2, 2);
          valueRead = `((n) => ${child}(pos + n, depth + 1, v))(len(e))`;
          valueDefault = `${child}(pos, depth + 1, undefined)`;
          break;
        }
        case "enum":
          valueTag = tagValue(2, 0);
          valueRead = "varint32()";
          valueDefault = String(field.enum.values[0]?.number ?? 0);
          break;
        case "scalar":
          valueTag = tagValue(2, scalarWireType(field.scalar));
          valueRead = scalarRead(field.scalar, field.utf8Validation, "e");
          valueDefault = scalarZeroSource(field.scalar);
          break;
      }
      return `      case ${tagValue(no, 2)}: {
        const n = len(end);
        const e = pos + n;
        let k = ${scalarZeroSource(field.mapKey)};
        let v = undefined;
        while (pos < e) {
          const t = varint32();
          if (t === ${keyTag}) k = ${keyRead};
          else if (t === ${valueTag}) v = ${valueRead};
          else skip(t, e, depth);
        }
        if (pos !== e) throw eof();
        setKey(m[${name}], String(k), v === undefined ? ${valueDefault} : v);
        break;
      }`;
    }
  }
}

/** An expression reading one scalar; `end` names the variable holding the enclosing end. */
function scalarRead(type: ScalarType, utf8Validation: boolean, end = "end"): string {
  switch (type) {
    case ScalarType.STRING:
      return `readString(${end}, ${utf8Validation})`;
    case ScalarType.BYTES:
      return `bytes(${end})`;
    case ScalarType.BOOL:
      return "(varint32() !== 0)";
    case ScalarType.INT32:
      return "varint32()";
    case ScalarType.UINT32:
      return "(varint32() >>> 0)";
    case ScalarType.SINT32:
      return "((v) => (v >>> 1) ^ -(v & 1))(varint32())";
    case ScalarType.INT64:
      return "varint64(true)";
    case ScalarType.UINT64:
      return "varint64(false)";
    case ScalarType.SINT64:
      return "((u) => (u >> 1n) ^ -(u & 1n))(varint64(false))";
    case ScalarType.FIXED32:
      return "fixed32()";
    case ScalarType.SFIXED32:
      return "(fixed32() | 0)";
    case ScalarType.FIXED64:
      return "fixed64()";
    case ScalarType.SFIXED64:
      return "BigInt.asIntN(64, fixed64())";
    case ScalarType.DOUBLE:
      return "double()";
    case ScalarType.FLOAT:
      return "float()";
  }
}
