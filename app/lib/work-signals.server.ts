import pg from "pg";
import { isRenderRunnable, type RenderStatus } from "../../domain/render-lifecycle";
import { RENDER_EVENTS_CHANNEL, WORK_QUEUED_CHANNEL } from "../../db/sql/work-signals";

// The server's ear for "work appeared" (db/sql/work-signals.ts, decision 026): one
// connection of its own LISTENs, outside Sequelize's pool (a pooled connection would lose
// its LISTEN when handed back), and wakes the claims held for that work's owner. While it
// is not connected, held claims look again every few seconds instead, so a lost
// connection costs an idle agent seconds, never a task.

/** How often a held claim looks again while the listening connection is down. */
const POLL_WHILE_DEAF_MS = 2_000;
const RECONNECT_MS = { initial: 500, max: 15_000 };

export type WaitOutcome = "work" | "timeout" | "aborted" | "closing";

/** A claim's place in line, taken before it looks at the queue, so a signal in between is not lost. */
export interface WorkWait {
  /** Resolves when work for this owner may have appeared (or had since subscribe), `ms` passed, or `signal` aborted. */
  until(ms: number, signal?: AbortSignal): Promise<WaitOutcome>;
  cancel(): void;
}

export interface WorkSignals {
  subscribe(userId: number): WorkWait;
  /** Whether the LISTEN connection is up (a claim then waits for its signal alone). */
  readonly listening: boolean;
  /** Wakes every held claim with "closing" and ends the connection. */
  close(): Promise<void>;
}

interface Waiter {
  userId: number;
  woken: WaitOutcome | null;
  wake(outcome: WaitOutcome): void;
}

/** Starts listening on `databaseUrl`; the first connection is made in the background. */
export function startWorkSignals(databaseUrl: string, log: (message: string) => void): WorkSignals {
  const waiters = new Set<Waiter>();
  let client: pg.Client | null = null;
  let listening = false;
  let closed = false;
  let retryMs = RECONNECT_MS.initial;
  let retryTimer: NodeJS.Timeout | undefined;

  const wake = (outcome: WaitOutcome, userId?: number) => {
    for (const waiter of waiters) if (userId === undefined || waiter.userId === userId) waiter.wake(outcome);
  };

  const onNotification = ({ channel, payload }: pg.Notification) => {
    const userId = ownerOf(channel, payload);
    // Unknown owner: everyone looks. The claim only hands out the owner's own work today;
    // once other people's renders are handed out too, a render's signal must wake their
    // workers as well (the payload can name them, or leave the owner out to wake all).
    if (userId !== null) wake("work", userId === "anyone" ? undefined : userId);
  };

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({ connectionString: databaseUrl, application_name: "cactus work signals" });
    const lost = (error?: Error) => {
      if (client !== next) return;
      client = null;
      listening = false;
      next.removeAllListeners();
      next.on("error", () => undefined);
      void next.end().catch(() => undefined);
      if (closed) return;
      log(`Held claims poll every ${POLL_WHILE_DEAF_MS / 1000} s: the database connection that hears of new work was lost (${error?.message ?? "closed"}); reconnecting.`);
      // Anything queued while deaf went unheard: every held claim looks now.
      wake("work");
      schedule();
    };
    client = next;
    next.on("notification", onNotification);
    next.on("error", lost);
    next.on("end", () => lost());
    try {
      await next.connect();
      await next.query(`LISTEN ${RENDER_EVENTS_CHANNEL}; LISTEN ${WORK_QUEUED_CHANNEL}`);
      if (client !== next) return;
      listening = true;
      retryMs = RECONNECT_MS.initial;
      // What was queued before LISTEN took hold went unheard: look once more.
      wake("work");
    } catch (error) {
      lost(error as Error);
    }
  };

  const schedule = () => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void connect(), retryMs);
    retryMs = Math.min(retryMs * 2, RECONNECT_MS.max);
  };

  void connect();

  return {
    get listening() {
      return listening;
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
            const timer = setTimeout(() => finish("timeout"), listening ? ms : Math.min(ms, POLL_WHILE_DEAF_MS));
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
      clearTimeout(retryTimer);
      wake("closing");
      const current = client;
      client = null;
      listening = false;
      if (current) {
        current.removeAllListeners();
        current.on("error", () => undefined);
        await current.end().catch(() => undefined);
      }
    },
  };
}

/** Whose work a notification announces: a user id, "anyone", or null when it brings none. */
export function ownerOf(channel: string, payload: string | undefined): number | "anyone" | null {
  let data: { userId?: unknown; to?: unknown } = {};
  try {
    data = JSON.parse(payload ?? "{}") as typeof data;
  } catch {
    return "anyone";
  }
  // A render that stopped (paused, done, cancelled…) brings no work.
  if (channel === RENDER_EVENTS_CHANNEL && typeof data.to === "string" && !isRenderRunnable(data.to as RenderStatus)) return null;
  return typeof data.userId === "number" ? data.userId : "anyone";
}
