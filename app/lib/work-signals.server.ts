import { isRenderRunnable, type RenderStatus } from "../../domain/render-lifecycle";
import { LOST, RENDER_EVENTS_CHANNEL, RESYNC, WORK_QUEUED_CHANNEL, type DatabaseEvents } from "./db-events.server";

// The server's ear for "work appeared" (db/sql/work-signals.ts, decision 026): it hears
// the database's notifications on the server's one listening connection
// (db-events.server.ts) and wakes the claims held for that work's owner. While that
// connection is down, held claims look again every few seconds instead, so a lost
// connection costs an idle agent seconds, never a task.

/** How often a held claim looks again while the listening connection is down. */
const POLL_WHILE_DEAF_MS = 2_000;

export type WaitOutcome = "work" | "timeout" | "aborted" | "closing";

/** A claim's place in line, taken before it looks at the queue, so a signal in between is not lost. */
export interface WorkWait {
  /** Resolves when work for this owner may have appeared (or had since subscribe), `ms` passed, or `signal` aborted. */
  until(ms: number, signal?: AbortSignal): Promise<WaitOutcome>;
  cancel(): void;
}

export interface WorkSignals {
  subscribe(userId: number): WorkWait;
  /** Whether the listening connection is up (a claim then waits for its signal alone). */
  readonly listening: boolean;
  /** Wakes every held claim with "closing" and stops listening. */
  close(): Promise<void>;
}

interface Waiter {
  userId: number;
  woken: WaitOutcome | null;
  wake(outcome: WaitOutcome): void;
}

/** Wakes held claims on the notifications `events` hears. */
export function startWorkSignals(events: DatabaseEvents): WorkSignals {
  const waiters = new Set<Waiter>();
  let closed = false;

  const wake = (outcome: WaitOutcome, userId?: number) => {
    for (const waiter of waiters) if (userId === undefined || waiter.userId === userId) waiter.wake(outcome);
  };

  const heard = (channel: typeof RENDER_EVENTS_CHANNEL | typeof WORK_QUEUED_CHANNEL) => (payload: unknown) => {
    const userId = ownerOf(channel, payload);
    // Unknown owner, or work other people's workers may take (a render asking them, a
    // change of consent): everyone looks.
    if (userId !== null) wake("work", userId === "anyone" ? undefined : userId);
  };
  const unlisten = [
    events.on(RENDER_EVENTS_CHANNEL, heard(RENDER_EVENTS_CHANNEL)),
    events.on(WORK_QUEUED_CHANNEL, heard(WORK_QUEUED_CHANNEL)),
    // Lost: held claims poll until it is back. Back: what was queued meanwhile went unheard.
    events.on(LOST, () => wake("work")),
    events.on(RESYNC, () => wake("work")),
  ];

  return {
    get listening() {
      return events.listening;
    },
    subscribe(userId) {
      let resolveWait: ((outcome: WaitOutcome) => void) | null = null;
      const waiter: Waiter = {
        userId,
        woken: null,
        wake(outcome) {
          waiter.woken ??= outcome;
          resolveWait?.(outcome);
        },
      };
      waiters.add(waiter);
      if (closed) waiter.wake("closing");
      return {
        until(ms, signal) {
          const pending = waiter.woken;
          waiter.woken = null;
          if (pending) return Promise.resolve(pending);
          if (signal?.aborted) return Promise.resolve("aborted");
          return new Promise<WaitOutcome>((resolve) => {
            const finish = (outcome: WaitOutcome) => {
              clearTimeout(timer);
              signal?.removeEventListener("abort", onAbort);
              resolveWait = null;
              waiter.woken = null;
              resolve(outcome);
            };
            const onAbort = () => finish("aborted");
            const timer = setTimeout(() => finish("timeout"), events.listening ? ms : Math.min(ms, POLL_WHILE_DEAF_MS));
            signal?.addEventListener("abort", onAbort, { once: true });
            resolveWait = finish;
          });
        },
        cancel() {
          waiters.delete(waiter);
          resolveWait?.("aborted");
        },
      };
    },
    async close() {
      closed = true;
      for (const off of unlisten) off();
      wake("closing");
    },
  };
}

/** Whose work a notification announces: a user id, "anyone", or null when it brings none. */
export function ownerOf(channel: string, payload: unknown): number | "anyone" | null {
  // A payload that is not ours (someone else's NOTIFY on the channel): everyone looks.
  if (typeof payload !== "object" || payload === null) return "anyone";
  const data = payload as { userId?: unknown; to?: unknown; anyone?: unknown };
  // A render that stopped (paused, done, cancelled…) brings no work.
  if (channel === RENDER_EVENTS_CHANNEL && typeof data.to === "string" && !isRenderRunnable(data.to as RenderStatus)) return null;
  if (data.anyone === true) return "anyone";
  return typeof data.userId === "number" ? data.userId : "anyone";
}
