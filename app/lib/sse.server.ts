// Server-sent events for things that change in the database (renders' progress).
//
// A stream sends the state at once, then waits: it wakes when this replica hears a
// database notification that concerns it (app/lib/db-events.server.ts: the render
// lifecycle's outbox, frames moving, an owner's workers changing, on any replica), loads
// what it shows and sends only what differs from what it sent. Nothing is polled: an idle
// stream costs Postgres nothing, and a busy one loads at most every `minIntervalMs`
// however many agents report at once (decision 022).

import type { Channel, DatabaseEvents } from "./db-events.server";
import { RESYNC } from "./db-events.server";

export interface StreamEvent {
  /** The SSE `event:` name. */
  event: string;
  data: unknown;
}

export interface LiveSource {
  /** The notifications it may care about. */
  channels: readonly Channel[];
  /**
   * Whether a notification concerns this stream (it may note what to reload): true wakes
   * it. A resync (the listener reconnected) always wakes it.
   */
  concerns(channel: Channel, payload: unknown): boolean | Promise<boolean>;
  /**
   * The events to send now, with what was sent before compared away (the source keeps
   * that); `last` ends the stream after them (the thing finished); null: the thing is
   * gone, the stream ends.
   */
  next(): Promise<{ events: StreamEvent[]; last: boolean } | null>;
}

export interface EventStreamOptions {
  /** Loads at most this often, so a storm of notifications costs a load per interval. */
  minIntervalMs?: number;
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. */
  heartbeatMs?: number;
  /** Whether the token or session that opened the stream still holds; asked every few seconds, false ends it. */
  stillAuthorized?: () => Promise<boolean>;
}

/** How often a stream asks whether its token or session still holds. */
const AUTHORIZATION_CHECK_MS = 5000;

/** How long an EventSource waits before reconnecting after the stream ends unexpectedly. */
const RETRY_MS = 3000;

const openStreams = new Set<() => void>();

/**
 * A `text/event-stream` response: the state at once, then what changed whenever a
 * notification says it may have, until the thing finishes or is gone, the client goes
 * away, or the server stops.
 */
export function liveEventStream(
  request: Request,
  events: DatabaseEvents,
  source: LiveSource,
  { minIntervalMs = 400, heartbeatMs = 15_000, stillAuthorized }: EventStreamOptions = {},
): Response {
  const encoder = new TextEncoder();
  let stop = () => undefined as void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let stopped = false;
      const send = (text: string) => {
        if (!stopped) controller.enqueue(encoder.encode(text));
      };
      const unsubscribe: (() => void)[] = [];
      let timer: NodeJS.Timeout | undefined;
      let running = false;
      let again = false;
      let lastRun = 0;

      const run = async () => {
        timer = undefined;
        running = true;
        again = false;
        lastRun = Date.now();
        try {
          const next = await source.next();
          if (next === null) return stop();
          for (const { event, data } of next.events) send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
          if (next.last) return stop();
        } catch (error) {
          // The database went away under the stream: the client reconnects after RETRY_MS.
          if (!stopped) console.error(`Event stream stopped: ${String(error)}`);
          return stop();
        } finally {
          running = false;
        }
        if (again) wake();
      };
      const wake = () => {
        if (stopped) return;
        if (running) {
          again = true;
          return;
        }
        timer ??= setTimeout(() => void run(), Math.max(0, lastRun + minIntervalMs - Date.now()));
      };

      const heartbeat = setInterval(() => send(": keep-alive\n\n"), heartbeatMs);
      // Signed out, or the token revoked: the stream ends (the client's reconnect is refused).
      const authorization =
        stillAuthorized &&
        setInterval(() => {
          void stillAuthorized().then(
            (still) => still || stop(),
            () => undefined,
          );
        }, AUTHORIZATION_CHECK_MS);
      stop = () => {
        if (stopped) return;
        stopped = true;
        clearInterval(heartbeat);
        if (authorization) clearInterval(authorization);
        clearTimeout(timer);
        for (const off of unsubscribe) off();
        openStreams.delete(stop);
        request.signal.removeEventListener("abort", stop);
        try {
          controller.close();
        } catch {
          // Already cancelled by the client.
        }
      };
      openStreams.add(stop);
      request.signal.addEventListener("abort", stop);
      for (const channel of source.channels) {
        unsubscribe.push(
          events.on(channel, (payload) => {
            void Promise.resolve(source.concerns(channel, payload)).then(
              (concerned) => concerned && wake(),
              () => wake(),
            );
          }),
        );
      }
      unsubscribe.push(events.on(RESYNC, wake));
      send(`retry: ${RETRY_MS}\n\n`);
      void run();
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      // Not kept for another request when the stream ends: a stopping server would wait
      // for it to idle out (keep-alive) instead of closing at once.
      Connection: "close",
      // nginx would otherwise buffer the events.
      "X-Accel-Buffering": "no",
    },
  });
}

/** Ends every open stream: the server is stopping, and open streams would keep it waiting. */
export function closeEventStreams(): void {
  for (const stop of [...openStreams]) stop();
}

/** Remembers what was sent under each key, and tells what differs from it. */
export class SentState<T> {
  private sent = new Map<string | number, string>();
  /** The values that differ from what was sent under their key; they count as sent now. */
  changed(entries: Iterable<[string | number, T]>): T[] {
    const out: T[] = [];
    for (const [key, value] of entries) {
      const json = JSON.stringify(value);
      if (this.sent.get(key) === json) continue;
      this.sent.set(key, json);
      out.push(value);
    }
    return out;
  }
}
