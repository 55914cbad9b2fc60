// A server stream with something to release when it ends, without a generator
// of its own. Wrapping a stream in `async function* { try { yield* inner } finally
// { release() } }` costs every message several promises, iterator results and
// microtask ticks per level, and a subscription went through three such levels
// (the subscription count, error mapping, the call gate). This forwards each
// call to the inner iterator and sees the end with one then().
//
// What the generator did, kept: nothing runs before the first next() (a stream
// that is never read acquires nothing), and the release runs exactly once, after
// the inner iterator finished, threw, or was returned or thrown into early.

export interface StreamEnd {
  /** Runs once when an opened stream ends, however it ends. */
  readonly end: () => void;
  /** What the stream throws instead of an error of the inner iterator (or of opening it). */
  readonly mapError?: (error: unknown) => unknown;
}

/**
 * A stream over the iterator `open()` returns, called at the first next().
 * `open` acquires what `end` releases: when it throws it must hold nothing, and
 * `end` is not called.
 */
export function onStreamEnd<T>(open: () => AsyncIterator<T>, streamEnd: StreamEnd): AsyncIterableIterator<T> {
  return new EndingStream(open, streamEnd.end, streamEnd.mapError);
}

// A class rather than closures per call: the methods are shared, and the two
// handlers given to then() are bound once per stream, not allocated per message.
class EndingStream<T> implements AsyncIterableIterator<T> {
  private state: "new" | "open" | "ended" = "new";
  private inner: AsyncIterator<T> | undefined;
  private readonly settled: (result: IteratorResult<T>) => IteratorResult<T>;
  private readonly failed: (error: unknown) => never;

  constructor(
    private readonly open: () => AsyncIterator<T>,
    private readonly end: () => void,
    private readonly mapError: ((error: unknown) => unknown) | undefined,
  ) {
    this.settled = this.onSettled.bind(this);
    this.failed = this.onFailed.bind(this);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.state === "new") {
      try {
        this.inner = this.open();
      } catch (error) {
        this.state = "ended";
        return Promise.reject(this.mapped(error));
      }
      this.state = "open";
    }
    if (this.state === "ended") return Promise.resolve({ done: true, value: undefined });
    return this.forward("next", undefined);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    const inner = this.inner;
    if (this.state !== "open" || inner!.return === undefined) {
      this.finish();
      return Promise.resolve({ done: true, value: value as T });
    }
    return this.forward("return", value);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    const inner = this.inner;
    if (this.state !== "open") {
      this.state = "ended";
      return Promise.reject(error);
    }
    // As yield* does with an iterator that cannot take an error: close it, then throw.
    if (inner!.throw === undefined) return this.return().then(() => Promise.reject(error));
    return this.forward("throw", error);
  }

  /** Calls the open inner iterator's `method`; its result or failure passes through onSettled / onFailed. */
  private forward(method: "next" | "return" | "throw", argument: unknown): Promise<IteratorResult<T>> {
    let result: Promise<IteratorResult<T>>;
    try {
      result = this.inner![method]!(argument);
    } catch (error) {
      return Promise.reject(this.ended(error));
    }
    return result.then(this.settled, this.failed);
  }

  private onSettled(result: IteratorResult<T>): IteratorResult<T> {
    if (result.done === true) this.finish();
    return result;
  }

  private onFailed(error: unknown): never {
    throw this.ended(error);
  }

  /** Ends the stream on an error of the inner iterator; returns what to throw. */
  private ended(error: unknown): unknown {
    this.finish();
    return this.mapped(error);
  }

  /** Releases once; a stream never opened holds nothing to release. */
  private finish(): void {
    const opened = this.state === "open";
    this.state = "ended";
    if (opened) this.end();
  }

  private mapped(error: unknown): unknown {
    return this.mapError === undefined ? error : this.mapError(error);
  }
}
