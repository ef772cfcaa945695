import { afterEach, expect, test } from "vitest";
import { closeEventStreams, pollingEventStream, type PolledSource } from "./sse.server";

// The event stream on its own, with a fake source and short intervals.

/** Reads the stream's text as it comes; `until` waits for a pattern, `ended` for the end. */
function reader(response: Response) {
  const stream = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let done = false;
  const pump = (async () => {
    for (;;) {
      const next = await stream.read();
      if (next.done) break;
      text += next.value;
    }
    done = true;
  })();
  return {
    text: () => text,
    async until(pattern: RegExp, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (done || Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    ended: () => pump.then(() => text),
    cancel: () => stream.cancel(),
  };
}

/** A source whose state the test changes; it counts its polls. */
function source(state: { version: number; last?: boolean; gone?: boolean }) {
  const counts = { polls: 0, loads: 0 };
  const polled: PolledSource<{ version: number }> = {
    async fingerprint() {
      counts.polls++;
      return state.gone ? null : String(state.version);
    },
    async load() {
      counts.loads++;
      return { data: { version: state.version }, last: state.last ?? false };
    },
  };
  return { polled, counts };
}

const open = (polled: PolledSource<unknown>, signal?: AbortSignal, heartbeatMs = 10_000) =>
  pollingEventStream(new Request("http://cactus.test/events", { signal }), polled, { event: "render", pollMs: 10, heartbeatMs });

afterEach(() => closeEventStreams());

test("sends the state at once, then only when its fingerprint changes, and ends after the last", async () => {
  const state = { version: 1, last: false };
  const { polled, counts } = source(state);
  const response = open(polled);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
  const events = reader(response);
  await events.until(/event: render\ndata: \{"version":1\}\n\n/);
  const pollsBefore = counts.polls;
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(counts.polls).toBeGreaterThan(pollsBefore);
  expect(counts.loads).toBe(1);

  Object.assign(state, { version: 2, last: true });
  expect(await events.ended()).toBe(
    'retry: 3000\n\nevent: render\ndata: {"version":1}\n\nevent: render\ndata: {"version":2}\n\n',
  );
  expect(counts.loads).toBe(2);
});

test("a comment keeps an idle stream open", async () => {
  const events = reader(open(source({ version: 1 }).polled, undefined, 20));
  await events.until(/: keep-alive\n\n.*: keep-alive\n\n/s);
  events.cancel();
});

test("ends when the thing is gone", async () => {
  const state = { version: 1, gone: false };
  const events = reader(open(source(state).polled));
  await events.until(/"version":1/);
  state.gone = true;
  expect(await events.ended()).toMatch(/"version":1\}\n\n$/);
});

test("stops polling when the client goes away, and when the server closes its streams", async () => {
  const client = new AbortController();
  const first = source({ version: 1 });
  const events = reader(open(first.polled, client.signal));
  await events.until(/"version":1/);
  client.abort();
  await events.ended();
  const polls = first.counts.polls;
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(first.counts.polls).toBe(polls);

  const second = source({ version: 1 });
  const open2 = reader(open(second.polled));
  await open2.until(/"version":1/);
  closeEventStreams();
  await open2.ended();
  const after = second.counts.polls;
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(second.counts.polls).toBe(after);
});

test("a source that fails ends the stream (the client reconnects after retry)", async () => {
  const failing: PolledSource<unknown> = {
    fingerprint: () => Promise.reject(new Error("connection lost")),
    load: () => Promise.reject(new Error("unused")),
  };
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    expect(await reader(open(failing)).ended()).toBe("retry: 3000\n\n");
  } finally {
    console.error = original;
  }
  expect(logged).toEqual(["Event stream render stopped: Error: connection lost"]);
});
