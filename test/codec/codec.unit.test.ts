// The compiled codec against protobuf-es itself: for every message runlog puts
// on the wire, decode must return what fromBinary returns and encode the bytes
// toBinary writes; malformed input must be refused where fromBinary refuses it.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FieldDescriptorProto_Label, FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import {
  AppendBatchRequestSchema,
  AppendBatchResponseSchema,
  GetRunStateResponseSchema,
  SubscribeResponseSchema,
} from "../../gen/runlog/v1/event_store_pb.js";
import { codecFor, decoderWithout } from "../../src/codec/codec.js";
import { stateOf } from "../reconstruct/helpers.js";
import { contextUpdated, json, oneOfEveryType, stepStarted } from "../support/events.js";

function expectSameAsProtobufEs<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const codec = codecFor(schema);
  const reference = toBinary(schema, message);
  const encoded = codec.encode(message);
  expect(Buffer.from(encoded).equals(Buffer.from(reference))).toBe(true);
  const decoded = codec.decode(reference);
  // Deep strict equality: same fields, same types (bigint, Uint8Array), same absent fields.
  expect(isDeepStrictEqual(decoded, fromBinary(schema, reference))).toBe(true);
}

describe("compiled codec", () => {
  it("compiles every runlog.v1 message the gRPC port sends or receives", () => {
    for (const schema of [EventSchema, AppendBatchRequestSchema, AppendBatchResponseSchema, SubscribeResponseSchema, GetRunStateResponseSchema]) {
      expect(codecFor(schema).compiled).toBe(true);
    }
  });

  it("keeps protobuf-es's functions for a schema it does not compile (proto2), and says why", () => {
    const codec = codecFor(FileDescriptorProtoSchema);
    expect(codec.compiled).toEqual({ reason: expect.stringContaining("proto3") });
    const file = create(FileDescriptorProtoSchema, { name: "x.proto", package: "p", dependency: ["a.proto"] });
    const bytes = codec.encode(file);
    expect(bytes.equals(Buffer.from(toBinary(FileDescriptorProtoSchema, file)))).toBe(true);
    expect(isDeepStrictEqual(codec.decode(bytes), fromBinary(FileDescriptorProtoSchema, bytes))).toBe(true);
  });

  it("matches protobuf-es on one event of every type, with outputs, metadata and timestamps", () => {
    const events = oneOfEveryType("codec-run").map((e, i) => ({
      ...e,
      id: `0190a3c4-0000-7000-8000-${i.toString().padStart(12, "0")}`,
      sequence: BigInt(i + 1),
      position: BigInt(1_000_000 + i),
      metadata: { traceparent: `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`, "ключ": "значение ✓" },
      timestamp: { $typeName: "google.protobuf.Timestamp" as const, seconds: 1_790_000_000n + BigInt(i), nanos: i * 1000 },
    }));
    for (const event of events) expectSameAsProtobufEs(EventSchema, event);
    expectSameAsProtobufEs(AppendBatchRequestSchema, create(AppendBatchRequestSchema, { events, expected: [{ runId: "codec-run", lastSequence: 3n }] }));
    expectSameAsProtobufEs(
      SubscribeResponseSchema,
      create(SubscribeResponseSchema, { message: { case: "events", value: { events } } }),
    );
  });

  it("matches protobuf-es on a reconstructed run state (maps of messages, nested lists, durations)", () => {
    const state = stateOf("state-run", oneOfEveryType("state-run"));
    expectSameAsProtobufEs(GetRunStateResponseSchema, create(GetRunStateResponseSchema, { state, replayedEvents: 25n }));
  });

  it("matches protobuf-es on random events", () => {
    fc.assert(
      fc.property(arbitraryEvent, (event) => {
        expectSameAsProtobufEs(EventSchema, event);
      }),
      { numRuns: 300 },
    );
  });

  it("encodes an init object (fields left out, nested messages without $typeName) as create() of it", () => {
    const init = { events: [{ id: "a", runId: "r", sequence: 3n, position: 9n }, { runId: "s", sequence: undefined }], duplicate: false };
    const reference = toBinary(AppendBatchResponseSchema, create(AppendBatchResponseSchema, init));
    expect(codecFor(AppendBatchResponseSchema).encode(init).equals(reference)).toBe(true);
    expect(codecFor(SubscribeResponseSchema).encode({}).length).toBe(0);
  });

  it("keeps unknown fields and writes them back", () => {
    const known = toBinary(EventSchema, stepStarted("unknown-run"));
    // Field 99 (varint 7) and field 100 (a length-delimited "hi"): not in the schema.
    const bytes = Buffer.concat([Buffer.from(known), Buffer.from([0x98, 0x06, 0x07, 0xa2, 0x06, 0x02, 0x68, 0x69])]);
    const decoded = codecFor(EventSchema).decode(bytes);
    expect(decoded.$unknown?.map((u) => u.no)).toEqual([99, 100]);
    expect(isDeepStrictEqual(decoded, fromBinary(EventSchema, bytes))).toBe(true);
    expect(codecFor(EventSchema).encode(decoded).equals(bytes)).toBe(true);
  });

  it("merges a message field that occurs twice, as protobuf-es does", () => {
    const a = toBinary(EventSchema, contextUpdated("merge-run", { key: "k", value: { a: 1 } }));
    const b = toBinary(EventSchema, create(EventSchema, { runId: "other", payload: { case: "contextUpdated", value: { value: json({ b: 2 }) } } }));
    const bytes = Buffer.concat([a, b]);
    const decoded = codecFor(EventSchema).decode(bytes);
    expect(isDeepStrictEqual(decoded, fromBinary(EventSchema, bytes))).toBe(true);
    expect(decoded.runId).toBe("other");
  });

  it("refuses truncated input wherever protobuf-es does, and agrees where a cut falls between fields", () => {
    const bytes = toBinary(EventSchema, oneOfEveryType("cut-run")[4]!);
    const codec = codecFor(EventSchema);
    for (let cut = 0; cut < bytes.length; cut++) {
      const part = bytes.subarray(0, cut);
      let reference: Event | undefined;
      try {
        reference = fromBinary(EventSchema, part);
      } catch {
        reference = undefined;
      }
      if (reference === undefined) expect(() => codec.decode(part), `cut at ${cut}`).toThrow();
      else expect(isDeepStrictEqual(codec.decode(part), reference), `cut at ${cut}`).toBe(true);
    }
  });

  it("refuses invalid UTF-8 in a string field", () => {
    // Field 2 (run_id), length 2: 0xC3 0x28 is not UTF-8.
    const bytes = Uint8Array.from([0x12, 0x02, 0xc3, 0x28]);
    expect(() => fromBinary(EventSchema, bytes)).toThrow();
    expect(() => codecFor(EventSchema).decode(bytes)).toThrow();
  });

  it("decodes strings over 32 bytes as protobuf-es does: ASCII, non-ASCII, U+FFFD itself, and malformed UTF-8 refused", () => {
    const encoder = new TextEncoder();
    /** An Event whose step_name (field 6) holds exactly these bytes. */
    const withStepName = (bytes: Uint8Array): Uint8Array => {
      const length = bytes.length;
      const prefix = length < 128 ? [0x32, length] : [0x32, (length & 0x7f) | 0x80, length >> 7];
      return Uint8Array.from([...prefix, ...bytes]);
    };
    for (const text of ["a".repeat(33), "x".repeat(600), `${"é".repeat(20)}-step`, `start ${"\uFFFD".repeat(12)} end`, `${"a".repeat(40)}😀`]) {
      const bytes = withStepName(encoder.encode(text));
      const decoded = codecFor(EventSchema).decode(bytes);
      expect(decoded.stepName).toBe(text);
      expect(isDeepStrictEqual(decoded, fromBinary(EventSchema, bytes))).toBe(true);
    }
    const a = [...encoder.encode("a".repeat(40))];
    const malformed = [
      [...a, 0xc3, 0x28], // a lead byte without its continuation
      [...a, 0x80], // a lone continuation byte
      [...a, 0xc0, 0xaf], // an overlong encoding of "/"
      [...a, 0xed, 0xa0, 0x80], // an encoded surrogate
      [...a, 0xf0, 0x9f, 0x98], // a sequence cut short at the end
    ];
    for (const bytes of malformed.map((b) => withStepName(Uint8Array.from(b)))) {
      expect(() => fromBinary(EventSchema, bytes)).toThrow();
      expect(() => codecFor(EventSchema).decode(bytes)).toThrow();
    }
  });

  it("refuses a length that runs past the end and a varint that never ends", () => {
    expect(() => codecFor(EventSchema).decode(Uint8Array.from([0x12, 0x05, 0x61]))).toThrow(/premature EOF/);
    expect(() => codecFor(EventSchema).decode(Uint8Array.from([0x18, 0xff, 0xff, 0xff]))).toThrow();
  });

  it("decodes from a Uint8Array that is a view into a larger buffer", () => {
    const bytes = toBinary(EventSchema, stepStarted("view-run", { attempt: 2 }));
    const larger = new Uint8Array(bytes.length + 10);
    larger.set(bytes, 5);
    const view = larger.subarray(5, 5 + bytes.length);
    expect(isDeepStrictEqual(codecFor(EventSchema).decode(view), fromBinary(EventSchema, bytes))).toBe(true);
  });

  it("interns repeated short strings without mixing up strings that share a slot", () => {
    const codec = codecFor(EventSchema);
    const names = Array.from({ length: 20_000 }, (_, i) => `s${i}`);
    for (const name of names) {
      const decoded = codec.decode(toBinary(EventSchema, create(EventSchema, { runId: name, stepName: name.toUpperCase() })));
      expect(decoded.runId).toBe(name);
      expect(decoded.stepName).toBe(name.toUpperCase());
    }
  });
});

describe("compiled codec on every scalar, list and map kind", () => {
  const schema = allKindsSchema();

  it("compiles the schema", () => {
    expect(codecFor(schema).compiled).toBe(true);
  });

  it("matches protobuf-es on random messages", () => {
    const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    const float = fc.float({ noNaN: true }).map((f) => Math.fround(f));
    const double = fc.double({ noNaN: true });
    const text = fc.string({ unit: "grapheme", maxLength: 40 });
    const init = fc.record(
      {
        d: double,
        f: float,
        i64: int64,
        u64: uint64,
        i32: int32,
        f64: uint64,
        f32: uint32,
        b: fc.boolean(),
        s: text,
        by: fc.uint8Array({ maxLength: 20 }),
        u32: uint32,
        sf32: int32,
        sf64: int64,
        s32: int32,
        s64: int64,
        e: fc.integer({ min: 0, max: 3 }),
        opt: fc.option(int32, { nil: undefined }),
        ri64: fc.array(int64, { maxLength: 5 }),
        rs: fc.array(text, { maxLength: 5 }),
        rd: fc.array(double, { maxLength: 5 }),
        rs32: fc.array(int32, { maxLength: 5 }),
        msi: fc.dictionary(text, int32, { maxKeys: 4 }),
        mis: fc.dictionary(int32.map(String), text, { maxKeys: 4 }),
        mbs: fc.dictionary(fc.constantFrom("true", "false"), text, { maxKeys: 2 }),
        mu64: fc.dictionary(uint64.map(String), fc.boolean(), { maxKeys: 3 }),
        long: fc.string({ minLength: 100, maxLength: 400 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(init, fc.option(init, { nil: undefined }), fc.integer({ min: 0, max: 2 }), (top, child, choice) => {
        const message = create(schema, {
          ...top,
          ...(child !== undefined && { child, children: [child, child] }),
          choice: choice === 0 ? { case: undefined } : choice === 1 ? { case: "cs", value: "x" } : { case: "cm", value: child ?? {} },
        } as never);
        expectSameAsProtobufEs(schema, message);
      }),
      { numRuns: 300 },
    );
  });
});

const text = fc.string({ maxLength: 30 });
const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<import("@bufbuild/protobuf").JsonValue>;
const arbitraryEvent: fc.Arbitrary<Event> = fc
  .record({
    id: fc.uuid(),
    runId: text,
    sequence: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
    version: fc.integer({ min: -5, max: 1000 }),
    type: fc.integer({ min: 0, max: 40 }),
    stepName: text,
    metadata: fc.dictionary(text, fc.string({ maxLength: 80 }), { maxKeys: 3 }),
    position: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    output: fc.option(jsonValue, { nil: undefined }),
    seconds: fc.option(fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }), { nil: undefined }),
    payload: fc.integer({ min: 0, max: oneOfEveryType("x").length }),
  })
  .map(({ output, seconds, payload, ...envelope }) => {
    const sample = oneOfEveryType(envelope.runId)[payload];
    return create(EventSchema, {
      ...envelope,
      payload: sample?.payload ?? { case: undefined },
      ...(output !== undefined && { output: json(output) }),
      ...(seconds !== undefined && { timestamp: { seconds, nanos: 5 } }),
    });
  });

/** A proto3 message with one field of every scalar type, lists, maps, a oneof and itself nested. */
function allKindsSchema(): DescMessage {
  const T = FieldDescriptorProto_Type;
  const L = FieldDescriptorProto_Label;
  const field = (name: string, number: number, type: FieldDescriptorProto_Type, extra: Record<string, unknown> = {}) => ({
    name,
    number,
    type,
    label: L.OPTIONAL,
    jsonName: name,
    ...extra,
  });
  const entry = (name: string, key: FieldDescriptorProto_Type, value: FieldDescriptorProto_Type) => ({
    name,
    field: [field("key", 1, key), field("value", 2, value)],
    options: { mapEntry: true },
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "codec_test.proto",
    package: "codec.test",
    syntax: "proto3",
    enumType: [{ name: "Kind", value: [0, 1, 2, 3].map((n) => ({ name: `KIND_${n}`, number: n })) }],
    messageType: [
      {
        name: "AllKinds",
        field: [
          field("d", 1, T.DOUBLE),
          field("f", 2, T.FLOAT),
          field("i64", 3, T.INT64),
          field("u64", 4, T.UINT64),
          field("i32", 5, T.INT32),
          field("f64", 6, T.FIXED64),
          field("f32", 7, T.FIXED32),
          field("b", 8, T.BOOL),
          field("s", 9, T.STRING),
          field("child", 11, T.MESSAGE, { typeName: ".codec.test.AllKinds" }),
          field("by", 12, T.BYTES),
          field("u32", 13, T.UINT32),
          field("e", 14, T.ENUM, { typeName: ".codec.test.Kind" }),
          field("sf32", 15, T.SFIXED32),
          field("sf64", 16, T.SFIXED64),
          field("s32", 17, T.SINT32),
          field("s64", 18, T.SINT64),
          field("opt", 19, T.INT32, { proto3Optional: true, oneofIndex: 0 }),
          field("ri64", 20, T.INT64, { label: L.REPEATED }),
          field("rs", 21, T.STRING, { label: L.REPEATED }),
          field("rd", 22, T.DOUBLE, { label: L.REPEATED }),
          field("rs32", 23, T.SINT32, { label: L.REPEATED }),
          field("children", 24, T.MESSAGE, { label: L.REPEATED, typeName: ".codec.test.AllKinds" }),
          field("msi", 25, T.MESSAGE, { label: L.REPEATED, typeName: ".codec.test.AllKinds.MsiEntry" }),
          field("mis", 26, T.MESSAGE, { label: L.REPEATED, typeName: ".codec.test.AllKinds.MisEntry" }),
          field("mbs", 27, T.MESSAGE, { label: L.REPEATED, typeName: ".codec.test.AllKinds.MbsEntry" }),
          field("mu64", 28, T.MESSAGE, { label: L.REPEATED, typeName: ".codec.test.AllKinds.Mu64Entry" }),
          field("cs", 29, T.STRING, { oneofIndex: 1 }),
          field("cm", 30, T.MESSAGE, { oneofIndex: 1, typeName: ".codec.test.AllKinds" }),
          field("mm", 31, T.MESSAGE, { label: L.REPEATED, typeName: ".codec.test.AllKinds.MmEntry" }),
          field("long", 3000, T.STRING),
        ],
        oneofDecl: [{ name: "_opt" }, { name: "choice" }],
        nestedType: [
          entry("MsiEntry", T.STRING, T.INT32),
          entry("MisEntry", T.INT32, T.STRING),
          entry("MbsEntry", T.BOOL, T.STRING),
          entry("Mu64Entry", T.UINT64, T.BOOL),
          {
            name: "MmEntry",
            field: [field("key", 1, T.STRING), field("value", 2, T.MESSAGE, { typeName: ".codec.test.AllKinds" })],
            options: { mapEntry: true },
          },
        ],
      },
    ],
  });
  const registry = createFileRegistry(file, () => undefined);
  const message = registry.getMessage("codec.test.AllKinds");
  if (message === undefined) throw new Error("AllKinds not built");
  return message;
}

describe("decoderWithout", () => {
  it("steps over the named fields and decodes everything else as the full decoder does", () => {
    const decode = decoderWithout(EventSchema, ["metadata"])!;
    for (const event of oneOfEveryType("r-skip")) {
      const full: Event = { ...event, metadata: { traceparent: "00-abc-01", tenant: "t-\u00e9" }, position: 77n, sequence: 3n };
      const bytes = toBinary(EventSchema, full);
      const reference = fromBinary(EventSchema, bytes);
      const decoded = decode(bytes);
      expect(decoded.metadata).toEqual({});
      expect(decoded.$unknown).toBeUndefined(); // skipped, not kept as unknown bytes
      expect(isDeepStrictEqual(decoded, { ...reference, metadata: {} })).toBe(true);
      expect(decoded.position).toBe(77n); // field 10, after the skipped field 9
    }
  });

  it("still refuses a truncated skipped field", () => {
    const bytes = toBinary(EventSchema, { ...stepStarted("r"), metadata: { k: "v" } });
    expect(() => decoderWithout(EventSchema, ["metadata"])!(bytes.subarray(0, bytes.length - 1))).toThrow();
  });

  it("refuses fields it cannot skip, and names it does not know", () => {
    expect(() => decoderWithout(EventSchema, ["sequence"])).toThrow(/only length-delimited/);
    expect(() => decoderWithout(EventSchema, ["nope"])).toThrow(/no field nope/);
  });
});
