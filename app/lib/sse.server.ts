// Server-sent events for things that change in the database (a render's progress).
//
// Why polling and not LISTEN/NOTIFY: a stream asks Postgres once a second for a cheap
// fingerprint (a few index lookups on one render) and loads the whole state only when
// it changed. NOTIFY would need triggers or extra statements on the queue's hot paths
// (claim, heartbeat, result), which bench:claim measures, and a dedicated connection
// per server replica; a second of latency is nothing next to a frame's render time,
// and the poll works the same on every replica behind a load balancer.

export interface PolledSource<T> {
  /** Changes whenever what `load` answers would; null when the thing is gone (the stream ends). */
  fingerprint(): Promise<string | null>;
  /** The event's data, and whether it is the last (the thing finished: the stream ends). */
  load(): Promise<{ data: T; last: boolean }>;
}

export interface EventStreamOptions {
  /** The SSE `event:` name. */
  event: string;
  pollMs?: number;
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. */
  heartbeatMs?: number;
  /** Asked every few seconds: the stream ends once the token or session it was opened with is not good any more. */
  stillAuthorized?: () => Promise<boolean>;
}

/** How often a stream asks whether its token or session still holds. */
const AUTHORIZATION_CHECK_MS = 5000;

/** How long an EventSource waits before reconnecting after the stream ends unexpectedly. */
const RETRY_MS = 3000;

const openStreams = new Set<() => void>();

/**
 * A `text/event-stream` response: the state at once, then again on every change, until
 * the thing finishes or is gone, the client goes away, or the server stops.
 */
export function pollingEventStream<T>(
  request: Request,
  source: PolledSource<T>,
  { event, pollMs = 1000, heartbeatMs = 15_000, stillAuthorized }: EventStreamOptions,
): Response {
  const encoder = new TextEncoder();
  let stop = () => undefined as void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let stopped = false;
      let wake: (() => void) | undefined;
      const send = (text: string) => {
        if (!stopped) controller.enqueue(encoder.encode(text));
      };
      const heartbeat = setInterval(() => send(": keep-alive\n\n"), heartbeatMs);
      stop = () => {
        if (stopped) return;
        stopped = true;
        clearInterval(heartbeat);
        wake?.();
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
      send(`retry: ${RETRY_MS}\n\n`);

      void (async () => {
        let sent: string | undefined;
        let checkedAt = Date.now();
        try {
          while (!stopped) {
            if (stillAuthorized && Date.now() - checkedAt >= AUTHORIZATION_CHECK_MS) {
              checkedAt = Date.now();
              if (!(await stillAuthorized())) break;
            }
            const fingerprint = await source.fingerprint();
            if (fingerprint === null) break;
            if (fingerprint !== sent) {
              sent = fingerprint;
              const { data, last } = await source.load();
              send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
              if (last) break;
            }
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, pollMs);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
        } catch (error) {
          // The database went away under the stream: the client reconnects after RETRY_MS.
          if (!stopped) console.error(`Event stream ${event} stopped: ${String(error)}`);
        }
        stop();
      })();
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
