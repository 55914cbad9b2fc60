// A binary encoder compiled for one protobuf-es schema, the counterpart of
// compile-decoder.ts: a function per message writing its fields in field-number
// order into one growing buffer, as protobuf-es's toBinary does (implicit
// presence skips zero values, repeated scalars packed, map entries key then
// value, unknown fields last), so that both give the same bytes. A nested
// message reserves one byte for its length and moves its body when the length
// needs more, instead of protobuf-es's fork and join of chunk lists.
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { LazyValue } from "./lazy-value.js";
import { is64BitInteger, scalarWireType, tagBytes } from "./schema-walk.js";

/**
 * Takes a message, or an init object of the same shape as create() takes one
 * (fields left out or undefined are not written, nested messages need no
 * $typeName), so that handlers' results are encoded without create().
 */
export type Encoder = (message: unknown) => Buffer;

const prelude = `
let out = Buffer.allocUnsafe(INITIAL);
let at = 0;

function need(n) {
  if (at + n <= out.length) return;
  let size = out.length * 2;
  while (size < at + n) size *= 2;
  const next = Buffer.allocUnsafe(size);
  out.copy(next, 0, 0, at);
  out = next;
}

/** An unsigned 32-bit varint; room for 5 bytes must have been made. */
function u32(v) {
  while (v > 127) { out[at++] = (v & 127) | 128; v >>>= 7; }
  out[at++] = v;
}

/** A signed 32-bit varint (negative: ten bytes, sign-extended); room for 10 bytes must have been made. */
function i32(v) {
  if (v >= 0) { u32(v); return; }
  u64(BigInt.asUintN(64, BigInt(v)));
}

/** A 64-bit varint from a bigint (or a number or string protobuf-es would accept); room for 10 bytes must have been made. */
function u64(v) {
  if (typeof v !== "bigint") v = BigInt(v);
  if (v >= 0n && v < 0x20000000000000n) {
    let n = Number(v);
    while (n > 127) { out[at++] = (n % 128) | 128; n = Math.floor(n / 128); }
    out[at++] = n;
    return;
  }
  v = BigInt.asUintN(64, v);
  while (v > 127n) { out[at++] = Number(v & 127n) | 128; v >>= 7n; }
  out[at++] = Number(v);
}

function fixed32(v) {
  out[at++] = v & 255; out[at++] = (v >>> 8) & 255; out[at++] = (v >>> 16) & 255; out[at++] = (v >>> 24) & 255;
}

function fixed64(v) {
  if (typeof v !== "bigint") v = BigInt(v);
  v = BigInt.asUintN(64, v);
  fixed32(Number(v & 0xffffffffn));
  fixed32(Number(v >> 32n));
}

const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);
function double(v) { f64[0] = v; for (let i = 0; i < 8; i++) out[at++] = f64bytes[i]; }

const f32 = new Float32Array(1);
const f32bytes = new Uint8Array(f32.buffer);
function float(v) { f32[0] = v; for (let i = 0; i < 4; i++) out[at++] = f32bytes[i]; }

/** A length-prefixed UTF-8 string. */
function writeString(s) {
  const n = s.length;
  if (n < 128) {
    need(n + 1);
    const start = at + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128) break;
      out[start + i] = c;
    }
    if (i === n) { out[at] = n; at = start + n; return; }
  }
  const size = Buffer.byteLength(s);
  need(size + 5);
  u32(size);
  at += out.write(s, at, size, "utf8");
}

function bytes(b) {
  need(b.length + 5);
  u32(b.length);
  out.set(b, at);
  at += b.length;
}

/**
 * Writes the length of a body written after \`reserved\` bytes at \`start\`, and
 * returns how many bytes the length took; the body moves when that differs, so
 * callers reserve what the same message took last time.
 */
function close(start, reserved) {
  const n = at - start - reserved;
  const size = n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : n < 268435456 ? 4 : 5;
  if (size !== reserved) {
    need(size - reserved);
    out.copyWithin(start + size, start + reserved, at);
    at += size - reserved;
  }
  let p = start;
  let v = n;
  while (v > 127) { out[p++] = (v & 127) | 128; v >>>= 7; }
  out[p] = v;
  return size;
}

function unknown(fields) {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    need(f.data.length + 5);
    u32(((f.no << 3) | f.wireType) >>> 0);
    out.set(f.data, at);
    at += f.data.length;
  }
}

function mapKey(key, type) {
  switch (type) {
    case "bool": return key === "true";
    case "int64": return BigInt(key);
    default: return Number.parseInt(key, 10);
  }
}
`;

/** Output buffers up to this size are kept between calls; a larger one is dropped after use. */
const keptBytes = 1 << 20;

export function compileEncoder(messages: readonly DescMessage[]): Encoder {
  const index = new Map(messages.map((m, i) => [m.typeName, i]));
  const functions = messages.map((m, i) => messageEncoder(m, i, index));
  const source = `${prelude}\n${functions.join("\n")}\nreturn function encode(message) {
  at = 0;
  e0(message);
  const result = Buffer.allocUnsafe(at);
  if (at <= 64) for (let i = 0; i < at; i++) result[i] = out[i];
  else result.set(out.subarray(0, at));
  if (out.length > ${keptBytes}) out = Buffer.allocUnsafe(INITIAL);
  return result;
};`;
  const factory = new Function("INITIAL", "Buffer", "LAZY", source) as (...args: unknown[]) => Encoder;
  return factory(64 * 1024, Buffer, LazyValue);
}

function messageEncoder(message: DescMessage, i: number, index: ReadonlyMap<string, number>): string {
  const sorted = [...message.fields].sort((a, b) => a.number - b.number);
  const parts: string[] = [];
  // Consecutive members of one oneof (in field-number order) share one switch.
  for (let k = 0; k < sorted.length; ) {
    const field = sorted[k]!;
    if (field.oneof === undefined) {
      parts.push(fieldWriter(field, `m[${JSON.stringify(field.localName)}]`, index));
      k++;
      continue;
    }
    const oneof = field.oneof;
    const group: DescField[] = [];
    while (k < sorted.length && sorted[k]!.oneof === oneof) group.push(sorted[k++]!);
    const cases = group.map((f) => `    case ${JSON.stringify(f.localName)}: { const v = o.value; ${valueWriter(f, "v", index)} break; }`);
    parts.push(`  { const o = m[${JSON.stringify(oneof.localName)}]; if (o !== undefined) switch (o.case) {\n${cases.join("\n")}\n  } }`);
  }
  // An unread LazyValue (lazy-value.ts) is its bytes: copied, not decoded to be encoded again.
  const lazy =
    message.typeName === "google.protobuf.Value"
      ? `  if (m instanceof LAZY) { const raw = LAZY.unread(m); if (raw !== undefined) { need(raw.length); out.set(raw, at); at += raw.length; return; } }\n`
      : "";
  return `let r${i} = 1;
function e${i}(m) {
${lazy}${parts.join("\n")}
  if (m.$unknown !== undefined) unknown(m.$unknown);
}`;
}

/** A field outside a oneof: its presence check, then its value. */
function fieldWriter(field: DescField, access: string, index: ReadonlyMap<string, number>): string {
  switch (field.fieldKind) {
    case "scalar":
    case "enum": {
      const write = valueWriter(field, "v", index);
      if (field.presence === 1) return `  { const v = ${access}; if (v !== undefined) { ${write} } }`;
      return `  { const v = ${access}; if (v !== undefined && ${nonZero(field)}) { ${write} } }`;
    }
    case "message":
      return `  { const v = ${access}; if (v !== undefined) { ${valueWriter(field, "v", index)} } }`;
    case "list":
      return listWriter(field, access, index);
    case "map":
      return mapWriter(field, access, index);
  }
}

function nonZero(field: DescField): string {
  if (field.fieldKind === "enum") return `v !== ${field.enum?.values[0]?.number ?? 0}`;
  if (field.fieldKind !== "scalar") return "v !== undefined";
  switch (field.scalar) {
    case ScalarType.BOOL:
      return "v !== false";
    case ScalarType.STRING:
      return 'v !== ""';
    case ScalarType.BYTES:
      return "v.length > 0";
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return "!Object.is(v, 0)";
    default:
      return "v != 0";
  }
}

function tagSource(fieldNo: number, wireType: number): string {
  return tagBytes(fieldNo, wireType)
    .map((b) => `out[at++] = ${b};`)
    .join(" ");
}

/** Tag and value of a singular field (or a oneof member) whose value is in `v`. */
function valueWriter(field: DescField, v: string, index: ReadonlyMap<string, number>): string {
  switch (field.fieldKind) {
    case "message":
      return `need(10); ${tagSource(field.number, 2)} ${nested(index.get(field.message.typeName)!, v)}`;
    case "enum":
      return `need(15); ${tagSource(field.number, 0)} i32(${v});`;
    case "scalar":
      return `need(15); ${tagSource(field.number, scalarWireType(field.scalar))} ${scalarWrite(field.scalar, v)}`;
    default:
      throw new Error(`${field.fieldKind} field ${field.name} as a single value`);
  }
}

function listWriter(field: DescField & { fieldKind: "list" }, access: string, index: ReadonlyMap<string, number>): string {
  if (field.listKind === "message") {
    return `  { const items = ${access}; if (items !== undefined) for (let i = 0; i < items.length; i++) { need(10); ${tagSource(field.number, 2)} ${nested(index.get(field.message.typeName)!, "items[i]")} } }`;
  }
  const scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
  if (field.packed) {
    return `  { const items = ${access}; if (items !== undefined && items.length > 0) { need(10); ${tagSource(field.number, 2)} const s = at++; for (let i = 0; i < items.length; i++) { need(10); ${scalarWrite(scalar, "items[i]")} } close(s, 1); } }`;
  }
  return `  { const items = ${access}; if (items !== undefined) for (let i = 0; i < items.length; i++) { need(15); ${tagSource(field.number, scalarWireType(scalar))} ${scalarWrite(scalar, "items[i]")} } }`;
}

function mapWriter(field: DescField & { fieldKind: "map" }, access: string, index: ReadonlyMap<string, number>): string {
  const keyType = field.mapKey;
  const key =
    keyType === ScalarType.STRING
      ? "k"
      : `mapKey(k, ${JSON.stringify(keyType === ScalarType.BOOL ? "bool" : is64BitInteger(keyType) ? "int64" : "int32")})`;
  const keyWrite = `need(15); ${tagSource(1, scalarWireType(keyType))} ${scalarWrite(keyType, key)}`;
  let valueWrite: string;
  switch (field.mapKind) {
    case "message":
      valueWrite = `need(10); ${tagSource(2, 2)} ${nested(index.get(field.message.typeName)!, "r[k]")}`;
      break;
    case "enum":
      valueWrite = `need(15); ${tagSource(2, 0)} i32(r[k]);`;
      break;
    case "scalar":
      valueWrite = `need(15); ${tagSource(2, scalarWireType(field.scalar))} ${scalarWrite(field.scalar, "r[k]")}`;
      break;
  }
  return `  { const r = ${access}; if (r !== undefined) for (const k of Object.keys(r)) { need(10); ${tagSource(field.number, 2)} const s = at++; ${keyWrite} ${valueWrite} close(s, 1); } }`;
}

/** Writes message \`v\` of type i length-prefixed, reserving for the length what the last one of its type took. */
function nested(i: number, v: string): string {
  // The reservation is read once: a message of the same type nested inside updates r${i}.
  return `{ const s = at; const q = r${i}; at += q; e${i}(${v}); r${i} = close(s, q); }`;
}

/** Statements writing one scalar value (no tag); fixed-size room must have been made, strings and bytes make their own. */
function scalarWrite(type: ScalarType, v: string): string {
  switch (type) {
    case ScalarType.STRING:
      return `writeString(${v});`;
    case ScalarType.BYTES:
      return `bytes(${v});`;
    case ScalarType.BOOL:
      return `out[at++] = ${v} ? 1 : 0;`;
    case ScalarType.INT32:
      return `i32(${v});`;
    case ScalarType.UINT32:
      return `u32(${v} >>> 0);`;
    case ScalarType.SINT32:
      return `{ const x = ${v}; u32(((x << 1) ^ (x >> 31)) >>> 0); }`;
    case ScalarType.INT64:
    case ScalarType.UINT64:
      return `u64(${v});`;
    case ScalarType.SINT64:
      return `{ const x = BigInt.asIntN(64, BigInt(${v})); u64(BigInt.asUintN(64, (x << 1n) ^ (x >> 63n))); }`;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return `fixed32(${v});`;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return `fixed64(${v});`;
    case ScalarType.DOUBLE:
      return `double(${v});`;
    case ScalarType.FLOAT:
      return `float(${v});`;
  }
}
