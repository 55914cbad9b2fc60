// The binary array parameters of append_events() (src/store/postgres/binary-arrays.ts):
// PostgreSQL must read each one back as the array the text form would have given,
// including empty arrays, NULL elements, non-ASCII text and the extremes of each type.
import { expect, it } from "vitest";
import {
  boolArray,
  byteaArray,
  int2Array,
  int4Array,
  int8Array,
  textArray,
  uuidArray,
} from "../../src/store/postgres/binary-arrays.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

describePostgres("PostgreSQL store: binary array parameters", () => {
  const db = useTestDatabase("binarrays");

  async function roundTrip(param: Buffer, cast: string): Promise<string> {
    const { rows } = await db.query<{ v: string }>(`SELECT ($1::${cast})::text AS v`, [param]);
    return rows[0]!.v;
  }

  it("int8, int4, int2 and bool arrays, with NULLs and extremes", async () => {
    expect(await roundTrip(int8Array([1n, -1n, 9223372036854775807n, -9223372036854775808n, null, 0n]), "bigint[]")).toBe(
      "{1,-1,9223372036854775807,-9223372036854775808,NULL,0}",
    );
    expect(await roundTrip(int4Array([0, 2147483647, -2147483648, null]), "integer[]")).toBe("{0,2147483647,-2147483648,NULL}");
    expect(await roundTrip(int2Array([0, 32767, -32768, 7]), "smallint[]")).toBe("{0,32767,-32768,7}");
    expect(await roundTrip(boolArray([true, false, true]), "boolean[]")).toBe("{t,f,t}");
  });

  it("empty arrays of every type", async () => {
    for (const [param, cast] of [
      [int8Array([]), "bigint[]"],
      [int4Array([]), "integer[]"],
      [int2Array([]), "smallint[]"],
      [boolArray([]), "boolean[]"],
      [uuidArray([]), "uuid[]"],
      [textArray([]), "text[]"],
      [byteaArray([]), "bytea[]"],
    ] as const) {
      const { rows } = await db.query<{ n: number | null; v: string }>(`SELECT cardinality($1::${cast}) AS n, ($1::${cast})::text AS v`, [param]);
      expect(rows[0]).toEqual({ n: 0, v: "{}" });
    }
  });

  it("text arrays keep non-ASCII text, quotes, backslashes, commas and braces", async () => {
    const values = ["run-1", "", "ünïcødé ✓", "𝄞 beyond the BMP", 'quo"te', "back\\slash", "a,b", "{x}", "NULL"];
    const { rows } = await db.query<{ v: string[] }>("SELECT $1::text[] AS v", [textArray(values)]);
    expect(rows[0]!.v).toEqual(values);
  });

  it("uuid arrays from the canonical text form", async () => {
    const ids = ["00000000-0000-0000-0000-000000000000", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "ffffffff-ffff-ffff-ffff-ffffffffffff"];
    const { rows } = await db.query<{ v: string }>("SELECT $1::uuid[]::text AS v", [uuidArray(ids)]);
    expect(rows[0]!.v).toBe(`{${ids.join(",")}}`);
    expect(() => uuidArray(["not-a-uuid"])).toThrow(TypeError);
    expect(() => uuidArray(["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4zzz"])).toThrow(TypeError);
  });

  it("bytea arrays keep every byte, including empty values", async () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const values = [all, new Uint8Array(0), Uint8Array.of(0), Buffer.from("payload")];
    const { rows } = await db.query<{ v: Buffer; n: number }>(
      "SELECT v, n FROM unnest($1::bytea[]) WITH ORDINALITY AS u(v, n) ORDER BY n",
      [byteaArray(values)],
    );
    expect(rows.map((r) => Buffer.from(r.v).toString("hex"))).toEqual(values.map((v) => Buffer.from(v).toString("hex")));
  });
});
