import { afterEach, expect, test } from "vitest";
import { EventEmitter } from "node:events";
import type { Channel, DatabaseEvents } from "./db-events.server";
import { RENDER_ACTIVITY_CHANNEL, RESYNC } from "./db-events.server";
import { closeEventStreams, liveEventStream, SentState, type LiveSource } from "./sse.server";

// The event stream on its own: a fake source, and notifications the test sends.

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

/** Notifications as the database listener hands them out, sent by the test. */
function fakeEvents() {
  const bus = new EventEmitter();
  const events: DatabaseEvents = {
    on(channel, listener) {
      bus.on(channel, listener);
      return () => bus.off(channel, listener);
    },
    listening: true,
    close: async () => undefined,
  };
  return { events, notify: (channel: Channel | typeof RESYNC, payload: unknown = null) => bus.emit(channel, payload), bus };
}

/** A source whose state the test changes: it counts its loads, and cares about render 7. */
function source(state: { version: number; last?: boolean; gone?: boolean }) {
  const counts = { loads: 0 };
  const sent = new SentState<{ version: number }>();
  const live: LiveSource = {
    channels: [RENDER_ACTIVITY_CHANNEL],
    concerns: (_channel, payload) => (payload as { renders: number[] }).renders.includes(7),
    async next() {
      counts.loads++;
      if (state.gone) return null;
      const events = sent.changed([["render", { version: state.version }]]).map((data) => ({ event: "render", data }));
      return { events, last: state.last ?? false };
    },
  };
  return { live, counts };
}

const open = (live: LiveSource, events: DatabaseEvents, signal?: AbortSignal, heartbeatMs = 10_000, minIntervalMs = 10) =>
  liveEventStream(new Request("http://cactus.test/events", { signal }), events, live, { minIntervalMs, heartbeatMs });

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
const about = (...renders: number[]) => ({ renders, users: [] });

afterEach(() => closeEventStreams());

test("sends the state at once, then loads only on a notification about it, sends only what changed, and ends after the last", async () => {
  const state = { version: 1, last: false };
  const { live, counts } = source(state);
  const { events, notify } = fakeEvents();
  const response = open(live, events);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
  const stream = reader(response);
  await stream.until(/event: render\ndata: \{"version":1\}\n\n/);
  await tick(50);
  expect(counts.loads).toBe(1);

  notify(RENDER_ACTIVITY_CHANNEL, about(8));
  await tick();
  expect(counts.loads).toBe(1);
  // About it, but nothing it shows changed: loaded, nothing sent.
  notify(RENDER_ACTIVITY_CHANNEL, about(7));
  await tick();
  expect(counts.loads).toBe(2);

  Object.assign(state, { version: 2, last: true });
  notify(RENDER_ACTIVITY_CHANNEL, about(7));
  expect(await stream.ended()).toBe('retry: 3000\n\nevent: render\ndata: {"version":1}\n\nevent: render\ndata: {"version":2}\n\n');
  expect(counts.loads).toBe(3);
});

test("a storm of notifications costs a load per interval, and one that comes during a load is not lost", async () => {
  const state = { version: 1 };
  const { live, counts } = source(state);
  const { events, notify } = fakeEvents();
  const stream = reader(open(live, events, undefined, 10_000, 100));
  await stream.until(/"version":1/);
  await tick(120);
  for (let index = 0; index < 50; index++) notify(RENDER_ACTIVITY_CHANNEL, about(7));
  await tick(60);
  expect(counts.loads).toBe(2);
  state.version = 2;
  notify(RENDER_ACTIVITY_CHANNEL, about(7));
  await stream.until(/"version":2/);
  expect(counts.loads).toBe(3);
});

test("after the listener reconnected (notifications may be lost) every stream loads again", async () => {
  const state = { version: 1 };
  const { live } = source(state);
  const { events, notify } = fakeEvents();
  const stream = reader(open(live, events));
  await stream.until(/"version":1/);
  state.version = 2;
  notify(RESYNC);
  await stream.until(/"version":2/);
  stream.cancel();
});

test("a comment keeps an idle stream open", async () => {
  const stream = reader(open(source({ version: 1 }).live, fakeEvents().events, undefined, 20));
  await stream.until(/: keep-alive\n\n.*: keep-alive\n\n/s);
  stream.cancel();
});

test("ends when the thing is gone", async () => {
  const state = { version: 1, gone: false };
  const { events, notify } = fakeEvents();
  const stream = reader(open(source(state).live, events));
  await stream.until(/"version":1/);
  state.gone = true;
  notify(RENDER_ACTIVITY_CHANNEL, about(7));
  expect(await stream.ended()).toMatch(/"version":1\}\n\n$/);
});

test("stops listening when the client goes away, and when the server closes its streams", async () => {
  const client = new AbortController();
  const { events, bus } = fakeEvents();
  const stream = reader(open(source({ version: 1 }).live, events, client.signal));
  await stream.until(/"version":1/);
  expect(bus.listenerCount(RENDER_ACTIVITY_CHANNEL)).toBe(1);
  client.abort();
  await stream.ended();
  expect(bus.listenerCount(RENDER_ACTIVITY_CHANNEL)).toBe(0);
  expect(bus.listenerCount(RESYNC)).toBe(0);

  const second = reader(open(source({ version: 1 }).live, events));
  await second.until(/"version":1/);
  closeEventStreams();
  await second.ended();
  expect(bus.listenerCount(RENDER_ACTIVITY_CHANNEL)).toBe(0);
});

test("a source that fails ends the stream (the client reconnects after retry)", async () => {
  const failing: LiveSource = { channels: [], concerns: () => true, next: () => Promise.reject(new Error("connection lost")) };
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    expect(await reader(open(failing, fakeEvents().events)).ended()).toBe("retry: 3000\n\n");
  } finally {
    console.error = original;
  }
  expect(logged).toEqual(["Event stream stopped: Error: connection lost"]);
});

test("SentState tells what differs from what was sent under each key", () => {
  const sent = new SentState<{ frame: number; status: string }>();
  expect(sent.changed([[1, { frame: 1, status: "queued" }], [2, { frame: 2, status: "queued" }]])).toHaveLength(2);
  expect(sent.changed([[1, { frame: 1, status: "done" }], [2, { frame: 2, status: "queued" }]])).toEqual([{ frame: 1, status: "done" }]);
  expect(sent.changed([[1, { frame: 1, status: "done" }]])).toEqual([]);
});
