// Whether a call was cancelled, asked without making its AbortSignal.
//
// On Node 20 every AbortSignal outlives the young generation: a million
// AbortControllers made and dropped promote 356 MB to the old generation, where
// EventTargets or plain objects promote almost nothing (bench/OPTIMISATIONS.md 23).
// One per unary call was a third of what the runlog server promoted under live
// load, and the old generation it filled was collected in 6–15 ms pauses.
// So the gRPC port's contexts make their signal only when someone reads it
// (a subscription waits on it; an Append only asks whether it fired), and offer
// the answer through `cancellation` here. Contexts that do not (connect-node's)
// are asked through their signal.
import type { HandlerContext } from "@connectrpc/connect";

/** A context's method: the reason its call was cancelled, or undefined while it was not. */
export const cancellation: unique symbol = Symbol("runlog.cancellation");

interface CancellationSource {
  [cancellation](): unknown;
}

function isSource(context: HandlerContext): context is HandlerContext & CancellationSource {
  return typeof (context as Partial<CancellationSource>)[cancellation] === "function";
}

/** The reason `context`'s call was cancelled (client gone, deadline, shutdown), or undefined. */
export function cancellationReason(context: HandlerContext): unknown {
  if (isSource(context)) return context[cancellation]();
  return context.signal.aborted ? context.signal.reason : undefined;
}

/** Throws the reason `context`'s call was cancelled, if it was: `signal.throwIfAborted()`. */
export function throwIfCancelled(context: HandlerContext): void {
  const reason = cancellationReason(context);
  if (reason !== undefined) throw reason;
}
