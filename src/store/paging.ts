// Paging rules every store applies the same way: page limits and ListRuns page
// tokens.
import { InvalidArgumentError } from "../errors.js";
import type { Limits } from "../limits.js";

/** ListRuns page size when the caller gives none. */
export const defaultRunPageSize = 100;

/** Events per Load/ReadLog page: 0 or absent → the maximum; capped by it. */
export function pageLimit(limit: number | undefined, limits: Limits): number {
  if (limit === undefined || limit === 0) return limits.maxPageEvents;
  if (!Number.isInteger(limit) || limit < 0) throw new InvalidArgumentError("limit", "must be a non-negative integer");
  return Math.min(limit, limits.maxPageEvents);
}

/** Runs per ListRuns page: 0 or absent → defaultRunPageSize; capped by the page limit. */
export function runPageSize(size: number | undefined, limits: Limits): number {
  if (size === undefined || size === 0) return Math.min(defaultRunPageSize, limits.maxPageEvents);
  if (!Number.isInteger(size) || size < 0) throw new InvalidArgumentError("page_size", "must be a non-negative integer");
  return Math.min(size, limits.maxPageEvents);
}

export function nonNegative(value: bigint, field: string): bigint {
  if (value < 0n) throw new InvalidArgumentError(field, "must not be negative");
  return value;
}

// Page tokens are opaque to clients: the last run ID of the page, base64url.
const tokenPrefix = "r1.";

export function encodeRunPageToken(runId: string): string {
  return tokenPrefix + Buffer.from(runId, "utf8").toString("base64url");
}

export function decodeRunPageToken(token: string): string {
  if (token.startsWith(tokenPrefix)) {
    const runId = Buffer.from(token.slice(tokenPrefix.length), "base64url").toString("utf8");
    if (runId !== "" && encodeRunPageToken(runId) === token) return runId;
  }
  throw new InvalidArgumentError("page_token", "is not a token from a previous ListRuns response");
}
