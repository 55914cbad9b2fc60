// What the compiled codecs (compile-decoder.ts, compile-encoder.ts) need to know
// about a schema before they write code for it: the messages it reaches, whether
// every field is of a kind they handle, and the object protobuf-es would create
// for a message with no fields set.
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";

/** Why a schema cannot be compiled; undefined when it can. */
export function unsupportedReason(messages: readonly DescMessage[]): string | undefined {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return "the platform is not little-endian";
  for (const message of messages) {
    for (const field of message.fields) {
      const reason = unsupportedField(field);
      if (reason !== undefined) return `${field.parent.typeName}.${field.name}: ${reason}`;
    }
  }
  return undefined;
}

const wrapperTypes = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"].map((t) => `google.protobuf.${t}Value`),
);

/** Explicit presence; implicit (proto3 plain fields) is 2, legacy required 3. */
const legacyRequired = 3;

function unsupportedField(field: DescField): string | undefined {
  if ((field as { delimitedEncoding?: boolean }).delimitedEncoding === true) return "groups (delimited encoding) are not compiled";
  if (field.presence === legacyRequired) return "required fields are not compiled";
  if (field.parent.file.edition !== 999 /* EDITION_PROTO3 */) return "only proto3 files are compiled";
  if (field.fieldKind === "scalar" && field.longAsString) return "64-bit integers as strings are not compiled";
  if (field.fieldKind === "list" && field.listKind === "scalar" && field.longAsString) return "64-bit integers as strings are not compiled";
  const enumDesc = field.fieldKind === "enum" || field.fieldKind === "list" || field.fieldKind === "map" ? field.enum : undefined;
  if (enumDesc !== undefined && !enumDesc.open) return "closed enums are not compiled";
  const messageDesc = field.fieldKind === "message" || field.fieldKind === "list" || field.fieldKind === "map" ? field.message : undefined;
  if (messageDesc !== undefined && wrapperTypes.has(messageDesc.typeName)) return "wrapper types are not compiled";
  return undefined;
}

/** The root and every message it reaches through its fields, root first. */
export function reachableMessages(root: DescMessage): DescMessage[] {
  const seen = new Map<string, DescMessage>();
  const visit = (message: DescMessage) => {
    if (seen.has(message.typeName)) return;
    seen.set(message.typeName, message);
    for (const field of message.fields) {
      const child = field.fieldKind === "message" || field.fieldKind === "list" || field.fieldKind === "map" ? field.message : undefined;
      if (child !== undefined) visit(child);
    }
  };
  visit(root);
  return [...seen.values()];
}

/**
 * JavaScript source of an object literal equal to `create(message)`: $typeName,
 * then every member in declaration order with its zero value; message fields and
 * proto3 optional scalars are left out (protobuf-es leaves them unset).
 * `unsetOneof`: the source of each oneof's value (default a fresh `{ case: undefined }`).
 */
export function emptyMessageSource(message: DescMessage, unsetOneof = "{ case: undefined }"): string {
  const parts = [`$typeName: ${JSON.stringify(message.typeName)}`];
  for (const member of message.members) {
    if (member.kind === "oneof") {
      parts.push(`${JSON.stringify(member.localName)}: ${unsetOneof}`);
      continue;
    }
    switch (member.fieldKind) {
      case "list":
        parts.push(`${JSON.stringify(member.localName)}: []`);
        break;
      case "map":
        parts.push(`${JSON.stringify(member.localName)}: {}`);
        break;
      case "enum":
        if (member.presence !== 1) parts.push(`${JSON.stringify(member.localName)}: ${member.enum.values[0]?.number ?? 0}`);
        break;
      case "scalar":
        if (member.presence !== 1) parts.push(`${JSON.stringify(member.localName)}: ${scalarZeroSource(member.scalar)}`);
        break;
      case "message":
        break;
    }
  }
  return `{ ${parts.join(", ")} }`;
}

/** JavaScript source of a scalar's zero value (a fresh one for bytes). */
export function scalarZeroSource(type: ScalarType): string {
  if (is64BitInteger(type)) return "0n";
  switch (type) {
    case ScalarType.STRING:
      return '""';
    case ScalarType.BOOL:
      return "false";
    case ScalarType.BYTES:
      return "new Uint8Array(0)";
    default:
      return "0";
  }
}

/** The 64-bit integer types, bigint in protobuf-es. */
export function is64BitInteger(type: ScalarType): boolean {
  return (
    type === ScalarType.INT64 ||
    type === ScalarType.UINT64 ||
    type === ScalarType.SINT64 ||
    type === ScalarType.FIXED64 ||
    type === ScalarType.SFIXED64
  );
}

/** The wire type a scalar is written with when not packed. */
export function scalarWireType(type: ScalarType): number {
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return 2;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 1;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return 5;
    default:
      return 0;
  }
}

/** A tag as the signed 32-bit integer the decoder's varint reader returns for it. */
export function tagValue(fieldNo: number, wireType: number): number {
  return ((fieldNo << 3) | wireType) | 0;
}

/** A tag's varint bytes. */
export function tagBytes(fieldNo: number, wireType: number): number[] {
  let v = ((fieldNo << 3) | wireType) >>> 0;
  const bytes: number[] = [];
  while (v > 127) {
    bytes.push((v & 127) | 128);
    v >>>= 7;
  }
  bytes.push(v);
  return bytes;
}
