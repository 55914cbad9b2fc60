// Binary protobuf for the server's hot paths: every request the gRPC port
// decodes and every response it encodes, the events Subscribe sends, and the
// snapshots written beside a run. Same messages and same bytes as protobuf-es's
// fromBinary/toBinary (test/codec), from code compiled per schema
// (compile-decoder.ts, compile-encoder.ts): protobuf-es walks the descriptors
// for every field of every message, which was 40 % of AppendBatch's CPU and
// most of a catch-up's (bench/OPTIMISATIONS.md). A schema with a feature the
// compilers do not handle (proto2 groups and defaults, closed enums, wrapper
// types, 64-bit integers as strings) keeps protobuf-es's functions.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { compileDecoder } from "./compile-decoder.js";
import { compileEncoder } from "./compile-encoder.js";
import { reachableMessages, unsupportedReason } from "./schema-walk.js";

export interface Codec<Desc extends DescMessage> {
  /** Throws on malformed input, as fromBinary does (premature EOF, invalid UTF-8, …). */
  decode(bytes: Uint8Array): MessageShape<Desc>;
  /**
   * A fresh Buffer the caller owns. Takes a message or an init object as create()
   * takes it (the bytes are those of create(schema, init)).
   */
  encode(message: MessageShape<Desc> | MessageInitShape<Desc>): Buffer;
  /** Whether compiled code serves this schema (false: protobuf-es, and why). */
  readonly compiled: true | { readonly reason: string };
}

const codecs = new WeakMap<DescMessage, Codec<DescMessage>>();

/**
 * A decoder for `schema` that steps over the named top-level fields (each
 * length-delimited: message, map, string or bytes) without reading them; the
 * decoded message keeps their defaults. For readers that never look at them.
 * `lazyValues`: google.protobuf.Value fields stay encoded until read, as in
 * requestDecoderFor (the decoded message then keeps `bytes` alive).
 * Compiled schemas only: undefined when protobuf-es serves the schema.
 */
export function decoderWithout<Desc extends DescMessage>(
  schema: Desc,
  localNames: readonly string[],
  options: { readonly lazyValues?: boolean } = {},
): ((bytes: Uint8Array) => MessageShape<Desc>) | undefined {
  const messages = reachableMessages(schema);
  if (unsupportedReason(messages) !== undefined) return undefined;
  const skipped = new Set(
    localNames.map((name) => {
      const field = schema.fields.find((f) => f.localName === name);
      if (field === undefined) throw new Error(`${schema.typeName} has no field ${name}`);
      return field;
    }),
  );
  return compileDecoder(messages, { skipped, lazyValues: options.lazyValues === true }) as (bytes: Uint8Array) => MessageShape<Desc>;
}

const requestDecoders = new WeakMap<DescMessage, (bytes: Uint8Array) => unknown>();

/**
 * The gRPC port's request decoder: codecFor(schema).decode, except that the
 * google.protobuf.Value fields of the messages (Event.output, a payload's input,
 * value, …) stay encoded until read (lazy-value.ts). What it returns must go
 * through the append path, which rebases or settles them.
 */
export function requestDecoderFor<Desc extends DescMessage>(schema: Desc): (bytes: Uint8Array) => MessageShape<Desc> {
  let decode = requestDecoders.get(schema);
  if (decode === undefined) {
    const messages = reachableMessages(schema);
    decode = unsupportedReason(messages) === undefined ? compileDecoder(messages, { lazyValues: true }) : codecFor(schema).decode;
    requestDecoders.set(schema, decode);
  }
  return decode as (bytes: Uint8Array) => MessageShape<Desc>;
}

export function codecFor<Desc extends DescMessage>(schema: Desc): Codec<Desc> {
  let codec = codecs.get(schema);
  if (codec === undefined) {
    codec = compile(schema);
    codecs.set(schema, codec);
  }
  return codec as unknown as Codec<Desc>;
}

function compile(schema: DescMessage): Codec<DescMessage> {
  const messages = reachableMessages(schema);
  const reason = unsupportedReason(messages);
  if (reason !== undefined) {
    return {
      decode: (bytes) => fromBinary(schema, bytes),
      encode: (message) => {
        const bytes = toBinary(schema, create(schema, message as MessageInitShape<DescMessage>));
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
      compiled: { reason },
    };
  }
  // The compiled functions themselves, no wrapper: they run for every message of the hot paths.
  return {
    decode: compileDecoder(messages) as Codec<DescMessage>["decode"],
    encode: compileEncoder(messages),
    compiled: true,
  };
}
