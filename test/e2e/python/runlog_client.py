#!/usr/bin/python3
"""A Python grpcio client of runlog, with stubs generated from proto/ at test time.

Run by test/e2e/polyglot-python.e2e.test.ts:

    PYTHONPATH=<stubs> /usr/bin/python3 runlog_client.py --target 127.0.0.1:<port> --run-id <id>

It appends a workflow history, loads it, subscribes to it, reads its state, and
checks a typed error detail; it prints one JSON object with what it saw and
exits 0, or exits 1 with the reason on stderr.
"""
import argparse
import json
import sys

import grpc
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict

from google.rpc import status_pb2
from runlog.v1 import errors_pb2, event_pb2, event_store_pb2, event_store_pb2_grpc, run_state_pb2


def value(obj):
    v = struct_pb2.Value()
    v.CopyFrom(json_value(obj))
    return v


def json_value(obj):
    s = struct_pb2.Struct()
    s.update({"v": obj})
    return s.fields["v"]


def history(run_id):
    E = event_pb2.Event
    return [
        E(run_id=run_id, workflow_started=event_pb2.WorkflowStarted(
            workflow_name="py-order", version=3, input=value({"order": 7, "items": ["tea", "cake"]}))),
        E(run_id=run_id, step_name="reserve", step_started=event_pb2.StepStarted()),
        E(run_id=run_id, step_name="reserve", step_completed=event_pb2.StepCompleted(), output=value({"reserved": True})),
        E(run_id=run_id, signal_waiting=event_pb2.SignalWaiting(signal_name="approval")),
        E(run_id=run_id, signal_received=event_pb2.SignalReceived(signal_name="approval", payload=value({"by": "ana"}))),
        E(run_id=run_id, step_name="ship", step_started=event_pb2.StepStarted()),
        E(run_id=run_id, step_name="ship", step_completed=event_pb2.StepCompleted()),
        E(run_id=run_id, workflow_completed=event_pb2.WorkflowCompleted(output=value({"ok": True}))),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--run-id", required=True)
    args = parser.parse_args()
    run_id = args.run_id
    out = {}

    with grpc.insecure_channel(args.target) as channel:
        stub = event_store_pb2_grpc.EventStoreStub(channel)
        events = history(run_id)

        # Append the first event alone, the rest as one atomic batch.
        first = stub.Append(event_store_pb2.AppendRequest(event=events[0]), timeout=10)
        out["first"] = {"sequence": first.event.sequence, "position": first.event.position, "id": first.event.id}
        batch = stub.AppendBatch(event_store_pb2.AppendBatchRequest(
            events=events[1:],
            expected=[event_store_pb2.ExpectedSequence(run_id=run_id, last_sequence=1)],
        ), timeout=10)
        out["batch_sequences"] = [e.sequence for e in batch.events]

        # A conflicting write: ABORTED with a ConcurrencyConflict detail in grpc-status-details-bin.
        try:
            stub.AppendBatch(event_store_pb2.AppendBatchRequest(
                events=[event_pb2.Event(run_id=run_id, custom=event_pb2.CustomEvent(name="late"))],
                expected=[event_store_pb2.ExpectedSequence(run_id=run_id, last_sequence=3)],
            ), timeout=10)
            raise SystemExit("the conflicting append succeeded")
        except grpc.RpcError as error:
            trailers = dict(error.trailing_metadata() or ())
            status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
            conflict = errors_pb2.ConcurrencyConflict()
            if not status.details[0].Unpack(conflict):
                raise SystemExit("the detail is not a runlog.v1.ConcurrencyConflict")
            out["conflict"] = {
                "code": error.code().name,
                "run_id": conflict.run_id,
                "expected": conflict.expected,
                "actual": conflict.actual,
            }

        # Load, in pages of 5.
        loaded = []
        after = 0
        while True:
            page = stub.Load(event_store_pb2.LoadRequest(run_id=run_id, after_sequence=after, limit=5), timeout=10)
            loaded.extend(page.events)
            if not page.has_more:
                break
            after = page.next_after_sequence
        out["loaded"] = [
            {"sequence": e.sequence, "type": event_pb2.EventType.Name(e.type), "payload": e.WhichOneof("payload")}
            for e in loaded
        ]
        out["input"] = MessageToDict(loaded[0].workflow_started.input)

        # Subscribe to the run: every event, then caught_up.
        subscribed = []
        markers = []
        stream = stub.Subscribe(event_store_pb2.SubscribeRequest(run_id=run_id), timeout=10)
        for response in stream:
            kind = response.WhichOneof("message")
            if kind == "events":
                subscribed.extend(e.sequence for e in response.events.events)
            else:
                markers.append({"kind": kind, "position": getattr(response, kind).position})
            if kind == "caught_up":
                stream.cancel()
                break
        out["subscribed"] = subscribed
        out["markers"] = markers

        # The state, now and as of sequence 4.
        state = stub.GetRunState(event_store_pb2.GetRunStateRequest(run_id=run_id), timeout=10).state
        out["state"] = {
            "workflow_name": state.workflow_name,
            "status": run_state_pb2.RunStatus.Name(state.status),
            "steps": [[s.name, run_state_pb2.StepStatus.Name(s.status)] for s in state.steps],
            "output": MessageToDict(state.output),
        }
        past = stub.GetRunState(event_store_pb2.GetRunStateRequest(run_id=run_id, as_of_sequence=4), timeout=10).state
        out["past_status"] = run_state_pb2.RunStatus.Name(past.status)

    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
