// What a store does so that the events it keeps in memory are small. Stored
// events live as long as the store, so a few nanoseconds at append buy bytes
// for every event held (bench/OPTIMISATIONS.md, "the store flattens…" and
// "compact sub-messages"). None of this changes a value: only its layout.
import type { ListValue, Struct, Timestamp, Value } from "@bufbuild/protobuf/wkt";

/**
 * Strings built by concatenation (a traceparent from a template literal, say) are
 * V8 cons-string trees, several times the size of their characters: flattening the
 * metadata of the benchmark's realistic events took 10,000 of them from 12.0 to
 * 8.8 MB. Reading a character flattens a string in place and leaves the tree to
 * the GC. Strings of 12 characters or fewer are never cons strings; decoded
 * strings (everything from the wire) are flat already and cost one load.
 */
export function flat(value: string): string {
  if (value.length > 12) flatSink ^= value.charCodeAt(0);
  return value;
}
/** Written so that the engine cannot drop flat()'s read as unused. */
let flatSink = 0;

// protobuf-es builds a message (by create() or when decoding) as `{ $typeName }`
// and adds its fields one by one, which leaves them in a separate 40-byte
// property array; an object literal with every field holds them inline. These
// rebuild the sub-messages an event has most of: its timestamp and its output
// (payload messages are kept: rebuilding them generically saved 16 of 995
// bytes per event). Messages with unknown fields are kept as they are.

export function compactTimestamp(t: Timestamp): Timestamp {
  if (t.$unknown !== undefined) return t;
  return { $typeName: "google.protobuf.Timestamp", seconds: t.seconds, nanos: t.nanos };
}

export function compactValue(v: Value): Value {
  if (v.$unknown !== undefined) return v;
  const kind = v.kind;
  switch (kind.case) {
    case "structValue":
      return { $typeName: "google.protobuf.Value", kind: { case: "structValue", value: compactStruct(kind.value) } };
    case "listValue":
      return { $typeName: "google.protobuf.Value", kind: { case: "listValue", value: compactList(kind.value) } };
    case "stringValue":
      return { $typeName: "google.protobuf.Value", kind: { case: "stringValue", value: flat(kind.value) } };
    case "numberValue":
    case "boolValue":
    case "nullValue":
      return { $typeName: "google.protobuf.Value", kind: { case: kind.case, value: kind.value } as Value["kind"] };
    default:
      return v;
  }
}

function compactStruct(s: Struct): Struct {
  if (s.$unknown !== undefined) return s;
  const fields: Record<string, Value> = {};
  for (const key in s.fields) fields[key] = compactValue(s.fields[key]!);
  return { $typeName: "google.protobuf.Struct", fields };
}

function compactList(l: ListValue): ListValue {
  if (l.$unknown !== undefined) return l;
  const values: Value[] = new Array(l.values.length);
  for (let i = 0; i < values.length; i++) values[i] = compactValue(l.values[i]!);
  return { $typeName: "google.protobuf.ListValue", values };
}

