// Domain errors are answers, not bugs: no stack trace is captured for them or
// for the status they map to, and the global stack-trace limit is left as it was.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ConcurrencyConflictError, InvalidArgumentError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { toConnectError } from "../../src/service/error-mapping.js";

describe("error mapping", () => {
  it("captures no stack for a domain error or its ConnectError, and restores the stack-trace limit", () => {
    const before = Error.stackTraceLimit;
    const conflict = new ConcurrencyConflictError("run-a", 1n, 3n);
    expect(conflict.stack).not.toMatch(/\n\s+at /);
    const mapped = toConnectError(conflict, silentLogger);
    expect(mapped.code).toBe(Code.Aborted);
    expect(mapped.stack).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error("a bug").stack).toMatch(/\n\s+at /);
  });

  it("keeps the stack of anything that is not a domain error (a bug, logged as INTERNAL)", () => {
    const bug = new TypeError("x is undefined");
    const mapped = toConnectError(bug, silentLogger);
    expect(mapped.code).toBe(Code.Internal);
    expect(bug.stack).toMatch(/\n\s+at /);
    expect(toConnectError(new InvalidArgumentError("event.run_id", "is required"), silentLogger)).toBeInstanceOf(ConnectError);
  });
});
