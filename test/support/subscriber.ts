// A test subscriber: reads a Subscribe stream in the background and records
// what arrives, so a test can wait for a condition and then cancel it.
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import type { SubscribeRequest, SubscribeResponse } from "../../gen/runlog/v1/event_store_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SubscribeRequestSchema } from "../../gen/runlog/v1/event_store_pb.js";
import type { EventStoreClient } from "./clients.js";

export interface Recorded {
  readonly events: Event[];
  readonly markers: { kind: "caughtUp" | "checkpoint" | "fellBehind"; position: bigint; afterEvents: number }[];
  readonly messages: number;
  /** Set when the stream ended with an error. */
  readonly error: unknown;
  readonly ended: boolean;
}

export interface TestSubscriber extends Recorded {
  /** Resolves once `predicate` holds (polled), rejects after `timeoutMs`. */
  until(predicate: (r: Recorded) => boolean, timeoutMs?: number): Promise<void>;
  cancel(): Promise<void>;
}

export function subscribe(
  client: EventStoreClient,
  request: MessageInitShape<typeof SubscribeRequestSchema> | SubscribeRequest,
  options: { timeoutMs?: number } = {},
): TestSubscriber {
  const controller = new AbortController();
  const state = {
    events: [] as Event[],
    markers: [] as Recorded["markers"],
    messages: 0,
    error: undefined as unknown,
    ended: false,
  };
  const done = (async () => {
    try {
      const stream = client.subscribe(request, {
        signal: controller.signal,
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      });
      for await (const response of stream as AsyncIterable<SubscribeResponse>) {
        state.messages++;
        const m = response.message;
        if (m.case === "events") state.events.push(...m.value.events);
        else if (m.case !== undefined) {
          state.markers.push({ kind: m.case, position: m.value.position, afterEvents: state.events.length });
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) state.error = error;
    } finally {
      state.ended = true;
    }
  })();
  const subscriber: TestSubscriber = {
    get events() {
      return state.events;
    },
    get markers() {
      return state.markers;
    },
    get messages() {
      return state.messages;
    },
    get error() {
      return state.error;
    },
    get ended() {
      return state.ended;
    },
    async until(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(subscriber)) {
        if (state.error !== undefined) throw state.error;
        if (state.ended) throw new Error("the stream ended");
        if (Date.now() > deadline) {
          throw new Error(`timed out: ${state.events.length} events, markers ${JSON.stringify(state.markers.map((m) => m.kind))}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async cancel() {
      controller.abort();
      await done;
    },
  };
  return subscriber;
}

export const caughtUp = (r: Recorded) => r.markers.some((m) => m.kind === "caughtUp");
