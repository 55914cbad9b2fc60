// Checks on request fields that are not events (events are checked by
// src/events/validate.ts): filters, page sizes, positions, enums. Every
// failure is an InvalidArgumentError naming the field.
//
// Unknown enum values: protobuf-es keeps an unknown proto3 enum number as a
// plain number, so they are rejected here, naming the field.
import type { EventFilter as EventFilterMessage } from "../../gen/runlog/v1/event_store_pb.js";
import { RunStatus, RunStatusSchema } from "../../gen/runlog/v1/run_state_pb.js";
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import { InvalidArgumentError } from "../errors.js";
import { isKnownEventType } from "../events/catalog.js";
import { validateRunId } from "../events/validate.js";
import type { Limits } from "../limits.js";
import type { EventFilter } from "../store/event-store.js";

/** Values in one repeated filter field (types, step names, workflow names, statuses). */
export const maxFilterValues = 1024;

const knownRunStatuses = new Set(RunStatusSchema.values.map((v) => v.number));

export { validateRunId };

/** A proto EventFilter as the store's filter, checked; undefined when absent or empty. */
export function toStoreFilter(
  filter: EventFilterMessage | undefined,
  field: string,
  limits: Limits,
): EventFilter | undefined {
  if (filter === undefined) return undefined;
  checkCount(filter.types.length, `${field}.types`);
  filter.types.forEach((type, i) => {
    if (type === EventType.UNSPECIFIED || !isKnownEventType(type)) {
      throw new InvalidArgumentError(`${field}.types[${i}]`, `unknown event type ${type}`);
    }
  });
  checkNames(filter.stepNames, `${field}.step_names`, limits);
  checkNames(filter.workflowNames, `${field}.workflow_names`, limits);
  if (filter.runIdPrefix.length > limits.maxRunIdLength) {
    throw new InvalidArgumentError(`${field}.run_id_prefix`, `is longer than ${limits.maxRunIdLength} characters`);
  }
  const result: { -readonly [K in keyof EventFilter]: EventFilter[K] } = {};
  if (filter.types.length > 0) result.types = filter.types;
  if (filter.stepNames.length > 0) result.stepNames = filter.stepNames;
  if (filter.workflowNames.length > 0) result.workflowNames = filter.workflowNames;
  if (filter.runIdPrefix !== "") result.runIdPrefix = filter.runIdPrefix;
  return Object.keys(result).length === 0 ? undefined : result;
}

/** Checks RunStatus values of a ListRuns request. */
export function checkRunStatuses(statuses: readonly RunStatus[], field: string): void {
  checkCount(statuses.length, field);
  statuses.forEach((status, i) => {
    if (!knownRunStatuses.has(status)) throw new InvalidArgumentError(`${field}[${i}]`, `unknown run status ${status}`);
  });
}

export function checkNames(names: readonly string[], field: string, limits: Limits): void {
  checkCount(names.length, field);
  names.forEach((name, i) => {
    if (name.length > limits.maxNameLength) {
      throw new InvalidArgumentError(`${field}[${i}]`, `is longer than ${limits.maxNameLength} characters`);
    }
  });
}

function checkCount(count: number, field: string): void {
  if (count > maxFilterValues) throw new InvalidArgumentError(field, `has ${count} values, more than ${maxFilterValues}`);
}

/** A page size: negative is invalid, 0 means the maximum, larger than the maximum is cut. */
export function pageLimit(limit: number, field: string, limits: Limits): number {
  if (limit < 0) throw new InvalidArgumentError(field, "must not be negative");
  if (limit === 0 || limit > limits.maxPageEvents) return limits.maxPageEvents;
  return limit;
}

export function checkNotNegative(value: bigint, field: string): void {
  if (value < 0n) throw new InvalidArgumentError(field, "must not be negative");
}
