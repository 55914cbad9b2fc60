// onStreamEnd: the release runs exactly once however the stream ends, and only
// for a stream that was opened; errors leave through mapError.
import { describe, expect, it } from "vitest";
import { onStreamEnd } from "../src/stream-end.js";

/** An inner stream of 1, 2, 3 (then `fail`, if given) that records its own cleanup, and the count of releases. */
function fixture(options: { fail?: Error; mapError?: (error: unknown) => unknown } = {}) {
  const log: string[] = [];
  let opened = 0;
  async function* inner() {
    try {
      yield 1;
      yield 2;
      yield 3;
      if (options.fail) throw options.fail;
    } finally {
      log.push("inner finally");
    }
  }
  const stream = onStreamEnd(
    () => {
      opened++;
      return inner();
    },
    { end: () => log.push("end"), ...(options.mapError && { mapError: options.mapError }) },
  );
  return { stream, log, opened: () => opened };
}

describe("onStreamEnd", () => {
  it("an inner stream that ends: released once, after the inner's own cleanup", async () => {
    const { stream, log } = fixture();
    const seen: number[] = [];
    for await (const n of stream) seen.push(n);
    expect(seen).toEqual([1, 2, 3]);
    expect(log).toEqual(["inner finally", "end"]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    await stream.return!();
    expect(log).toEqual(["inner finally", "end"]);
  });

  it("an inner stream that throws: released once, the error mapped", async () => {
    const fail = new Error("boom");
    const { stream, log } = fixture({ fail, mapError: (error) => new Error("mapped", { cause: error }) });
    const seen: number[] = [];
    const ended = (async () => {
      for await (const n of stream) seen.push(n);
    })();
    await expect(ended).rejects.toSatisfy((e: unknown) => e instanceof Error && e.message === "mapped" && e.cause === fail);
    expect(seen).toEqual([1, 2, 3]);
    expect(log).toEqual(["inner finally", "end"]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(["inner finally", "end"]);
  });

  it("a consumer that stops early (return): the inner is returned, then released once", async () => {
    const { stream, log } = fixture();
    for await (const n of stream) if (n === 2) break;
    expect(log).toEqual(["inner finally", "end"]);
    expect(await stream.return!(7)).toEqual({ done: true, value: 7 });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(["inner finally", "end"]);
  });

  it("an error thrown in: reaches the inner, released once, the error mapped", async () => {
    const { stream, log } = fixture({ mapError: (error) => `mapped ${String(error)}` });
    expect(await stream.next()).toEqual({ done: false, value: 1 });
    await expect(stream.throw!("stop")).rejects.toBe("mapped stop");
    expect(log).toEqual(["inner finally", "end"]);
    await expect(stream.throw!("again")).rejects.toBe("again");
    expect(log).toEqual(["inner finally", "end"]);
  });

  it("never read: nothing is opened or released", async () => {
    const { stream, log, opened } = fixture();
    expect(await stream.return!()).toEqual({ done: true, value: undefined });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(opened()).toBe(0);
    expect(log).toEqual([]);
  });

  it("opening fails: not released (nothing was acquired), the error mapped", async () => {
    let released = 0;
    const stream = onStreamEnd<number>(
      () => {
        throw new Error("refused");
      },
      { end: () => released++, mapError: (error) => `mapped ${(error as Error).message}` },
    );
    await expect(stream.next()).rejects.toBe("mapped refused");
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(released).toBe(0);
  });

  it("opens on the first next(), not before", async () => {
    const { stream, opened } = fixture();
    expect(opened()).toBe(0);
    await stream.next();
    await stream.next();
    expect(opened()).toBe(1);
    await stream.return!();
  });
});
