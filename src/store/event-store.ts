// The EventStore port: what every store (memory, postgres) offers, with its
// per-operation option and result types. No driver, no transport here.
import type { Event, EventType } from "../../gen/runlog/v1/event_pb.js";
import type { RunStatus } from "../../gen/runlog/v1/run_state_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Limits } from "../limits.js";
import type { SnapshotStore } from "./snapshot-store.js";

/** Server-side filter. Empty fields match everything; fields AND, values within a field OR. */
export interface EventFilter {
  readonly types?: readonly EventType[];
  readonly stepNames?: readonly string[];
  /** Runs whose workflow.started named one of these. */
  readonly workflowNames?: readonly string[];
  readonly runIdPrefix?: string;
}

export interface AppendOptions {
  /** Expected last sequence per run, checked atomically with the write. 0n: the run must not exist. */
  readonly expected?: ReadonlyMap<string, bigint>;
  /**
   * Each input event's protobuf encoding as the client sent it, in input order,
   * when the caller has it (the gRPC port does). A store that keeps events
   * encoded may keep these bytes, followed by the fields it normalized (a
   * protobuf reader takes the last value of a field), instead of encoding each
   * event again. They must be the encodings of exactly the input events.
   */
  readonly received?: readonly Uint8Array[];
  /**
   * The limits every input event was already checked against by validateEvent
   * (the service checks each event before its lifecycle check). A store whose
   * own limits are this same object does not check the envelopes again; any
   * other value, or none, and it does.
   */
  readonly validated?: Limits;
}

/** Where one event was stored. */
export interface AppendedEvent {
  readonly id: string;
  readonly runId: string;
  readonly sequence: bigint;
  readonly position: bigint;
}

export interface AppendResult {
  /** One per input event, in input order. */
  readonly events: readonly AppendedEvent[];
  /** True when the input repeated events already stored: nothing was stored, the original result is returned. */
  readonly duplicate: boolean;
  /**
   * The events as stored (normalized: id, type, timestamp, sequence, position),
   * in input order; never for a duplicate. Both stores here return them (a store
   * may leave them out). Shared with the store: read them, never change them.
   * Lets the caller fold what it wrote without reading it back.
   */
  readonly stored?: readonly Event[];
}

export interface LoadOptions {
  /** Only events with a greater sequence (Skene LoadSince). Default 0n. */
  readonly afterSequence?: bigint;
  /** At most this many events (capped by the store's page limit). */
  readonly limit?: number;
  /** types and stepNames apply; workflowNames and runIdPrefix are ignored. */
  readonly filter?: EventFilter;
  /**
   * The caller reads only what the reconstructor's fold reads: a store may
   * return the events with metadata and id empty, which spares decoding them
   * (fold-decoder.ts). A hint; a store may ignore it.
   */
  readonly foldOnly?: boolean;
}

export interface LoadResult {
  /** Sorted by sequence. */
  readonly events: readonly Event[];
  /** Pass as afterSequence for the next page: the last sequence examined. */
  readonly nextAfterSequence: bigint;
  readonly hasMore: boolean;
}

export interface ReadLogOptions {
  /** Only events with a greater position. Default 0n. */
  readonly afterPosition?: bigint;
  /** Only events at or below this position. Default: the head. */
  readonly toPosition?: bigint;
  readonly limit?: number;
  readonly filter?: EventFilter;
}

export interface ReadLogResult {
  /** Sorted by position. */
  readonly events: readonly Event[];
  /** Pass as afterPosition for the next page: the last position examined. */
  readonly nextAfterPosition: bigint;
  readonly hasMore: boolean;
  /** The last position visible to this read. */
  readonly headPosition: bigint;
}

export interface RunSummary {
  readonly runId: string;
  readonly workflowName: string;
  readonly status: RunStatus;
  readonly lastSequence: bigint;
  readonly firstEventAt: Timestamp | undefined;
  readonly lastEventAt: Timestamp | undefined;
}

/**
 * Stored events as their runlog.v1.Event encoding, for readers that send them
 * on as they are (the gRPC port's Load, ReadLog and Subscribe catch-up).
 */
export interface EncodedEvents {
  /** Each event's bytes, in order. The store's own memory: read them, never change them. */
  readonly bytes: readonly Uint8Array[];
  /** Each event's sequence (loadEncoded) or position (readLogEncoded). */
  readonly coordinates: readonly bigint[];
}

export interface EncodedLoadResult extends Omit<LoadResult, "events"> {
  readonly events: EncodedEvents;
}

export interface EncodedReadLogResult extends Omit<ReadLogResult, "events"> {
  readonly events: EncodedEvents;
}

export interface ListRunsOptions {
  readonly runIdPrefix?: string;
  readonly workflowNames?: readonly string[];
  readonly statuses?: readonly RunStatus[];
  readonly pageSize?: number;
  readonly pageToken?: string;
}

export interface ListRunsResult {
  /** Sorted by run ID. */
  readonly runs: readonly RunSummary[];
  /** Empty when there are no more. */
  readonly nextPageToken: string;
}

/**
 * Called with committed events in position order. Across all calls a listener
 * sees every event committed after it was added exactly once, with no gap.
 */
export type AppendListener = (events: readonly Event[]) => void;

export interface EventStore {
  /**
   * Stores events atomically (all or nothing), possibly across runs. Events are
   * validated and normalized (id, version, type, timestamp, sequence when 0).
   * Errors: InvalidArgumentError, ConcurrencyConflictError, EventIdConflictError,
   * LimitExceededError, UnavailableError.
   */
  append(events: readonly Event[], options?: AppendOptions): Promise<AppendResult>;
  /** A run's events sorted by sequence; empty for an unknown run. */
  load(runId: string, options?: LoadOptions): Promise<LoadResult>;
  /**
   * Optional: load() with the events as their stored encoding, for a store
   * that keeps them encoded (same page, cursor and has_more as load()).
   */
  loadEncoded?(runId: string, options?: LoadOptions): Promise<EncodedLoadResult>;
  /** 0n for an empty or unknown run. */
  getLastSequence(runId: string): Promise<bigint>;
  /** The global log by position. */
  readLog(options?: ReadLogOptions): Promise<ReadLogResult>;
  /** Optional: readLog() with the events as their stored encoding (as loadEncoded). */
  readLogEncoded?(options?: ReadLogOptions): Promise<EncodedReadLogResult>;
  /** The last committed position, 0n for an empty store. */
  headPosition(): Promise<bigint>;
  listRuns(options?: ListRunsOptions): Promise<ListRunsResult>;
  /** The change feed. Returns a function that removes the listener. */
  onAppend(listener: AppendListener): () => void;
  /** Snapshots, kept beside the events and never in a run's sequence. */
  readonly snapshots: SnapshotStore;
  /** Releases resources; later calls fail with UnavailableError. */
  close(): Promise<void>;
}
