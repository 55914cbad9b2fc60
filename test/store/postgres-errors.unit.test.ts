// Driver errors become domain errors in one place (src/store/postgres/pg-errors.ts).
import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import { isConnectionError, toStoreError } from "../../src/store/postgres/pg-errors.js";
import { compilePostgresOptions } from "../../src/store/postgres/options.js";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("postgres driver errors", () => {
  it.each([
    ["ECONNREFUSED", withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED")],
    ["ECONNRESET", withCode("read ECONNRESET", "ECONNRESET")],
    ["admin_shutdown 57P01", withCode("terminating connection due to administrator command", "57P01")],
    ["crash_shutdown 57P02", withCode("terminating connection because of crash of another server process", "57P02")],
    ["cannot_connect_now 57P03", withCode("the database system is starting up", "57P03")],
    ["connection_failure 08006", withCode("connection failure", "08006")],
    ["too_many_connections 53300", withCode("sorry, too many clients already", "53300")],
    ["pg: Connection terminated unexpectedly", new Error("Connection terminated unexpectedly")],
    ["pg-pool: connect timeout", new Error("timeout exceeded when trying to connect")],
    ["net: several addresses refused", new AggregateError([withCode("x", "ECONNREFUSED")], "")],
  ])("%s → UnavailableError with the cause", (_, error) => {
    expect(isConnectionError(error)).toBe(true);
    const mapped = toStoreError(error, "append");
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect((mapped as UnavailableError).cause).toBe(error);
    expect((mapped as UnavailableError).message).toContain("append");
  });

  it.each([
    ["unique_violation", withCode("duplicate key", "23505")],
    ["syntax_error", withCode("syntax error", "42601")],
    ["a plain bug", new TypeError("x is undefined")],
    ["not an Error", "string"],
  ])("%s is passed through unchanged", (_, error) => {
    expect(isConnectionError(error)).toBe(false);
    expect(toStoreError(error, "append")).toBe(error);
  });

  it("an UnavailableError stays as it is", () => {
    const error = new UnavailableError("closed");
    expect(toStoreError(error, "x")).toBe(error);
  });
});

describe("postgres store options", () => {
  it("defaults", () => {
    const config = compilePostgresOptions({ connectionString: "postgres://h/db" });
    expect(config).toMatchObject({
      schema: "runlog",
      notifyChannel: "runlog_events",
      positions: "xid-gated",
      poolSize: 10,
      migrate: true,
      notifyInTransaction: false,
      notifyIntervalMs: 5,
      pollIntervalMs: 1000,
      applicationName: "runlog",
    });
  });

  it("rejects what cannot work", () => {
    const connectionString = "postgres://h/db";
    expect(() => compilePostgresOptions({ connectionString, schema: 'a"b' })).toThrow(RangeError);
    expect(() => compilePostgresOptions({ connectionString, notifyChannel: "a b" })).toThrow(RangeError);
    expect(() => compilePostgresOptions({ connectionString, pollIntervalMs: 0 })).toThrow(RangeError);
    expect(() => compilePostgresOptions({ connectionString, gateWaitMs: -1 })).toThrow(RangeError);
    expect(() => compilePostgresOptions({ connectionString, notifyIntervalMs: 1.5 })).toThrow(RangeError);
    expect(() => compilePostgresOptions({ connectionString: "http://h" })).toThrow(RangeError);
  });
});
