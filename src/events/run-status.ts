// A run's status as its events move it, shared by the reconstructor (RunState.status)
// and by the stores' run summaries (ListRuns), so that both always agree.
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";
import { RunStatus } from "../../gen/runlog/v1/run_state_pb.js";

export interface RunStatusTrack {
  status: RunStatus;
  /** Signals awaited and not yet received or timed out. */
  waitingSignals: number;
}

export function initialRunStatus(): RunStatusTrack {
  return { status: RunStatus.UNSPECIFIED, waitingSignals: 0 };
}

/**
 * Moves the track by one event (mutates and returns it). `type`: the event's
 * resolved type, when its own field is unset (a client may leave it to the payload).
 */
export function trackRunStatus(track: RunStatusTrack, event: Event, type: EventType = event.type): RunStatusTrack {
  switch (type) {
    case EventType.WORKFLOW_STARTED:
      track.status = RunStatus.RUNNING;
      break;
    case EventType.WORKFLOW_COMPLETED:
      track.status = RunStatus.COMPLETED;
      break;
    case EventType.WORKFLOW_FAILED:
      track.status = RunStatus.FAILED;
      break;
    case EventType.WORKFLOW_CANCELLED:
      track.status = RunStatus.CANCELLED;
      break;
    case EventType.SIGNAL_WAITING:
      track.waitingSignals++;
      if (track.status === RunStatus.RUNNING) track.status = RunStatus.WAITING;
      break;
    case EventType.SIGNAL_RECEIVED:
    case EventType.SIGNAL_TIMEOUT:
      if (track.waitingSignals > 0) track.waitingSignals--;
      if (track.waitingSignals === 0 && track.status === RunStatus.WAITING) track.status = RunStatus.RUNNING;
      break;
    case EventType.COMPENSATION_STARTED:
      track.status = RunStatus.COMPENSATING;
      break;
    case EventType.COMPENSATION_COMPLETED:
      track.status = RunStatus.COMPENSATED;
      break;
    case EventType.COMPENSATION_FAILED:
      track.status = RunStatus.COMPENSATION_FAILED;
      break;
    default:
      break;
  }
  return track;
}
