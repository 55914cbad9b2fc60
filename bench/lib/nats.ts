// NATS JetStream used as an event store (the peer): one subject per run,
// Nats-Expected-Last-Subject-Sequence for optimistic concurrency, the same
// protobuf-encoded Event bytes runlog stores as the message payload.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { Socket } from "node:net";

export const natsUrl = process.env.RUNLOG_BENCH_NATS ?? "127.0.0.1:4222";

/** Skip reason when no NATS server with JetStream answers, else undefined. */
export async function natsAvailable(): Promise<string | undefined> {
  const [host, port] = natsUrl.split(":");
  const open = await new Promise<boolean>((resolve) => {
    const s = new Socket();
    s.setTimeout(1000);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
    s.once("timeout", () => (s.destroy(), resolve(false)));
    s.connect(Number(port ?? 4222), host ?? "127.0.0.1");
  });
  if (!open) return `NATS not reachable at ${natsUrl} (set RUNLOG_BENCH_NATS)`;
  try {
    const nc = await connect({ servers: natsUrl, timeout: 2000 });
    const jetStream = nc.info?.jetstream === true;
    await nc.close();
    return jetStream ? undefined : `NATS at ${natsUrl} has JetStream disabled`;
  } catch (error) {
    return `NATS at ${natsUrl}: ${(error as Error).message}`;
  }
}

export interface NatsFixture {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  /** Subject prefix; a run's subject is `${prefix}.${runId}`. */
  readonly prefix: string;
  close(): Promise<void>;
}

export type NatsStorage = "memory" | "file";

/** A fresh stream (deleted first if it exists) capturing `<prefix>.>`. */
export async function natsFixture(storage: NatsStorage, name: string): Promise<NatsFixture> {
  const nc = await connect({ servers: natsUrl, timeout: 5000 });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = `RUNLOG_BENCH_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
  const prefix = `runlogbench.${name.replace(/[^a-zA-Z0-9]/g, "_")}`;
  await jsm.streams.delete(stream).catch(() => false);
  await jsm.streams.add({
    name: stream,
    subjects: [`${prefix}.>`],
    storage: storage === "memory" ? StorageType.Memory : StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    max_msg_size: 1024 * 1024,
  });
  return {
    nc,
    js,
    jsm,
    stream,
    prefix,
    async close() {
      await jsm.streams.delete(stream).catch(() => false);
      await nc.close();
    },
  };
}

/** Whether an error is JetStream's "wrong last sequence" (the optimistic-concurrency conflict). */
export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === 10071;
}

/** The stream sequence of the last message on a subject, 0 when none. */
export async function lastSubjectSequence(f: NatsFixture, subject: string): Promise<number> {
  try {
    const m = await f.jsm.streams.getMessage(f.stream, { last_by_subj: subject });
    return m?.seq ?? 0;
  } catch {
    return 0;
  }
}

/** Publishes `count` messages asynchronously, at most `window` unacknowledged. */
export async function preloadNats(
  f: NatsFixture,
  count: number,
  subjectOf: (i: number) => string,
  payload: Uint8Array,
  window = 2000,
): Promise<void> {
  let inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    inFlight.push(f.js.publish(subjectOf(i), payload));
    if (inFlight.length >= window) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
}

/**
 * Reads `expected` messages through an ordered consumer (optionally filtered to
 * one subject) and returns how long it took (ms), consumer creation included.
 */
export async function readOrdered(f: NatsFixture, expected: number, filterSubject?: string): Promise<number> {
  const t0 = performance.now();
  const consumer = await f.js.consumers.get(f.stream, filterSubject ? { filter_subjects: filterSubject } : {});
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const messages = await consumer.consume({
    max_messages: 10_000,
    callback: () => {
      if (++received === expected) done();
    },
  });
  const timeout = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timeout);
  const ms = performance.now() - t0;
  await messages.close();
  if (received < expected) throw new Error(`ordered consumer: ${received} of ${expected} messages`);
  return ms;
}
