// The gRPC port's request decoder (requestDecoderFor) leaves google.protobuf.Value
// fields encoded until read (src/codec/lazy-value.ts). It must give what
// fromBinary gives, refuse what fromBinary refuses, and its values must stop
// depending on the request's bytes once rebased or settled.
import { create, equals, fromBinary, toBinary, type JsonValue } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { AppendBatchRequestSchema } from "../../gen/runlog/v1/event_store_pb.js";
import { codecFor, requestDecoderFor } from "../../src/codec/codec.js";
import { LazyValue, rebaseLazyValues, settleLazyValues } from "../../src/codec/lazy-value.js";
import { contextUpdated, customEvent, json, oneOfEveryType, stepCompleted, workflowStarted } from "../support/events.js";

const decodeRequest = requestDecoderFor(AppendBatchRequestSchema);
/** An AppendBatchRequest whose one event is `event`'s bytes as they are. */
const asRequest = (event: Uint8Array) => Buffer.from(new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(event).finish());
const requestBytes = (events: Event[]) => Buffer.from(toBinary(AppendBatchRequestSchema, create(AppendBatchRequestSchema, { events })));

/** Events with a JSON value in every place an event has one. */
function eventsWith(value: JsonValue): Event[] {
  return [
    workflowStarted("lazy-run", { workflowName: "w", input: value }),
    stepCompleted("lazy-run", {}, { output: value }),
    contextUpdated("lazy-run", { key: "k", value }),
    customEvent("lazy-run", { name: "x.y", json: value }),
  ];
}

/** The Values of an event, where it has them. */
function valuesOf(event: Event): unknown[] {
  const values: unknown[] = [event.output];
  const payload = event.payload;
  if (payload.case === "workflowStarted") values.push(payload.value.input);
  if (payload.case === "contextUpdated") values.push(payload.value.value);
  if (payload.case === "custom") values.push(payload.value.body.value);
  return values.filter((v) => v !== undefined);
}

const jsonValue = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>;

describe("requestDecoderFor: lazy google.protobuf.Value fields", () => {
  it("leaves well-formed values encoded, and reading them gives what fromBinary gives", () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        const bytes = requestBytes(eventsWith(value));
        const decoded = decodeRequest(bytes);
        for (const event of decoded.events) for (const v of valuesOf(event)) expect(v).toBeInstanceOf(LazyValue);
        // Unread, a request encodes as the bytes it came from.
        expect(codecFor(AppendBatchRequestSchema).encode(decoded).equals(bytes)).toBe(true);
        // Read (protobuf-es walks every field), it is the same message.
        expect(equals(AppendBatchRequestSchema, decoded, fromBinary(AppendBatchRequestSchema, bytes))).toBe(true);
        // Read values are encoded from what was read.
        expect(codecFor(AppendBatchRequestSchema).encode(decoded).equals(bytes)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("decodes every event type as fromBinary does", () => {
    const bytes = requestBytes(oneOfEveryType("lazy-types"));
    expect(equals(AppendBatchRequestSchema, decodeRequest(bytes), fromBinary(AppendBatchRequestSchema, bytes))).toBe(true);
  });

  it("a value that is set anew is encoded from what it was set to", () => {
    const decoded = decodeRequest(requestBytes([stepCompleted("set-run", {}, { output: { a: 1 } })]));
    const output = decoded.events[0]!.output!;
    output.kind = json("replaced").kind;
    const again = codecFor(AppendBatchRequestSchema).decode(codecFor(AppendBatchRequestSchema).encode(decoded));
    expect(equals(ValueSchema, again.events[0]!.output!, json("replaced"))).toBe(true);
  });

  it("decodes at once a value with a field Value does not have, and keeps that field", () => {
    const event = toBinary(EventSchema, stepCompleted("unknown-run"));
    // Event.output (field 7) holding a Value with string_value "x" and field 99 = 7.
    const output = Buffer.from([0x1a, 0x01, 0x78, 0x98, 0x06, 0x07]);
    const bytes = Buffer.concat([Buffer.from(event), Buffer.from([0x3a, output.length]), output]);
    const request = asRequest(bytes);
    const decoded = decodeRequest(request);
    expect(decoded.events[0]!.output).not.toBeInstanceOf(LazyValue);
    expect(decoded.events[0]!.output!.$unknown?.map((u) => u.no)).toEqual([99]);
    expect(equals(AppendBatchRequestSchema, decoded, fromBinary(AppendBatchRequestSchema, request))).toBe(true);
  });

  it("merges a value field that occurs twice, as fromBinary does", () => {
    const a = toBinary(EventSchema, stepCompleted("merge-run", {}, { output: { a: 1, b: [1, 2] } }));
    const b = toBinary(EventSchema, stepCompleted("merge-run", {}, { output: { c: "z" } }));
    const event = Buffer.concat([a, b]);
    const request = asRequest(event);
    const decoded = decodeRequest(request);
    expect(equals(AppendBatchRequestSchema, decoded, fromBinary(AppendBatchRequestSchema, request))).toBe(true);
  });

  it("refuses invalid UTF-8 inside a value, as fromBinary does", () => {
    const good = requestBytes([stepCompleted("utf8-run", {}, { output: { key: "ok" } })]);
    // Replace the string "ok" with 0xC3 0x28 (not UTF-8), same length.
    const at = good.indexOf(Buffer.from("ok"));
    const bad = Buffer.from(good);
    bad[at] = 0xc3;
    bad[at + 1] = 0x28;
    expect(() => fromBinary(AppendBatchRequestSchema, bad)).toThrow();
    expect(() => decodeRequest(bad)).toThrow();
    // Non-ASCII that is UTF-8 stays lazy and reads back.
    const accented = requestBytes([stepCompleted("utf8-run", {}, { output: { "clé": "значение ✓" } })]);
    const decoded = decodeRequest(accented);
    expect(decoded.events[0]!.output).toBeInstanceOf(LazyValue);
    expect(equals(ValueSchema, decoded.events[0]!.output!, json({ "clé": "значение ✓" }))).toBe(true);
  });

  it("refuses a value nested past the recursion limit, as fromBinary does, and keeps one within it lazy", () => {
    const nested = (depth: number): JsonValue => (depth === 0 ? "leaf" : [nested(depth - 1)]);
    const deep = requestBytes([stepCompleted("deep-run", {}, { output: nested(60) })]);
    expect(() => fromBinary(AppendBatchRequestSchema, deep)).toThrow(/recursion/);
    expect(() => decodeRequest(deep)).toThrow(/recursion/);
    const shallow = requestBytes([stepCompleted("deep-run", {}, { output: nested(30) })]);
    const decoded = decodeRequest(shallow);
    expect(decoded.events[0]!.output).toBeInstanceOf(LazyValue);
    expect(equals(AppendBatchRequestSchema, decoded, fromBinary(AppendBatchRequestSchema, shallow))).toBe(true);
  });

  it("refuses a value cut short wherever fromBinary does", () => {
    const event = Buffer.from(toBinary(EventSchema, stepCompleted("cut-run", {}, { output: { a: [1, "two", { three: true }] } })));
    for (let cut = 0; cut < event.length; cut++) {
      const part = event.subarray(0, cut);
      const request = asRequest(part);
      let reference: unknown;
      try {
        reference = fromBinary(AppendBatchRequestSchema, request);
      } catch {
        reference = undefined;
      }
      if (reference === undefined) expect(() => decodeRequest(request), `cut at ${cut}`).toThrow();
      else expect(equals(AppendBatchRequestSchema, decodeRequest(request), reference as never), `cut at ${cut}`).toBe(true);
    }
  });
});

describe("rebaseLazyValues and settleLazyValues", () => {
  const value: JsonValue = { status: "ok", lines: [1, 2, 3], nested: { deeper: "yes" } };

  it("a rebased value reads the copy: the request's bytes can change", () => {
    const bytes = requestBytes(eventsWith(value));
    const decoded = decodeRequest(bytes);
    const copy = Buffer.alloc(bytes.length + 100);
    bytes.copy(copy, 100);
    // The whole request as one "event" encoding: every value lies inside it.
    for (const event of decoded.events) rebaseLazyValues(event, bytes, copy, 100);
    bytes.fill(0);
    for (const event of decoded.events) for (const v of valuesOf(event)) expect(equals(ValueSchema, v as Value, json(value))).toBe(true);
  });

  it("a settled value is decoded: the request's bytes can change", () => {
    const bytes = requestBytes(eventsWith(value));
    const decoded = decodeRequest(bytes);
    settleLazyValues(decoded.events);
    bytes.fill(0);
    for (const event of decoded.events) for (const v of valuesOf(event)) expect(equals(ValueSchema, v as Value, json(value))).toBe(true);
  });

  it("an unread value neither rebased nor settled still depends on the request (what the two are for)", () => {
    const bytes = requestBytes([stepCompleted("dep-run", {}, { output: "abc" })]);
    const decoded = decodeRequest(bytes);
    bytes.fill(0x61, bytes.indexOf(Buffer.from("abc")), bytes.indexOf(Buffer.from("abc")) + 3);
    expect((decoded.events[0]!.output as Value).kind).toEqual({ case: "stringValue", value: "aaa" });
  });

  it("rebase leaves alone a value that is not inside the bytes it is told about", () => {
    const bytes = requestBytes([stepCompleted("other-run", {}, { output: "abc" })]);
    const decoded = decodeRequest(bytes);
    const unrelated = Buffer.alloc(bytes.length);
    rebaseLazyValues(decoded.events[0]!, unrelated, Buffer.alloc(bytes.length), 0);
    expect(decoded.events[0]!.output!.kind).toEqual({ case: "stringValue", value: "abc" });
  });
});
