import { EventEmitter } from "node:events";
import pg from "pg";
import { RENDER_EVENTS_CHANNEL } from "../../db/sql/render-status";
import { WORK_QUEUED_CHANNEL } from "../../db/sql/work-signals";

// What changed in the database, heard on this replica whichever replica changed it:
// one connection per server LISTENs on the channels below and hands each notification
// to the live pages' streams, the push sender and the agents' held claims in this
// process (decisions 022 and 026).

/** The render lifecycle's outbox (db/sql/render-status.ts) says `{"renderId":…,"eventId":…}` on RENDER_EVENTS_CHANNEL. */
export { RENDER_EVENTS_CHANNEL };
/** Frames of renders moved, or an owner's workers changed (app/lib/render-activity.server.ts). */
export const RENDER_ACTIVITY_CHANNEL = "cactus_render_activity";
/** A worker's event for its owner (worker_events). */
export const WORKER_EVENTS_CHANNEL = "cactus_worker_events";
/** Tasks went into the queue without a render event (db/sql/work-signals.ts): `{"userId":…}`. */
export { WORK_QUEUED_CHANNEL };

const CHANNELS = [RENDER_EVENTS_CHANNEL, RENDER_ACTIVITY_CHANNEL, WORKER_EVENTS_CHANNEL, WORK_QUEUED_CHANNEL] as const;
export type Channel = (typeof CHANNELS)[number];

/** Sent to every listener after the connection came back: what was missed meanwhile is unknown. */
export const RESYNC = "resync";
/** Sent when the connection was lost: nothing is heard until RESYNC. */
export const LOST = "lost";

export interface DatabaseEvents {
  /** Calls `listener` with each notification's parsed payload; returns the unsubscribe. */
  on(channel: Channel | typeof RESYNC | typeof LOST, listener: (payload: unknown) => void): () => void;
  /** Whether the connection is up: what is notified now will be heard. */
  readonly listening: boolean;
  close(): Promise<void>;
}

const RECONNECT_MS = [500, 1000, 2000, 5000, 10_000];

export function listenToDatabase(databaseUrl: string, log: (message: string) => void): DatabaseEvents {
  const bus = new EventEmitter();
  // Every open event stream adds a listener; they are not a leak.
  bus.setMaxListeners(0);
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const connect = async () => {
    const next = new pg.Client({ connectionString: databaseUrl, application_name: "cactus events" });
    next.on("notification", ({ channel, payload }) => {
      let parsed: unknown = null;
      try {
        parsed = payload ? JSON.parse(payload) : null;
      } catch {
        // A payload from someone else's NOTIFY on our channel: heard, but says nothing more.
      }
      bus.emit(channel, parsed);
    });
    next.on("error", () => undefined);
    next.on("end", () => {
      const wasListening = client === next;
      if (wasListening) client = undefined;
      if (closed) return;
      if (wasListening) {
        log("The database connection that hears of changes was lost; reconnecting.");
        bus.emit(LOST, null);
      }
      retry();
    });
    try {
      await next.connect();
      for (const channel of CHANNELS) await next.query(`LISTEN ${channel}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      if (!closed && failures === 0) log(`Listening to the database failed (${String(error)}); retrying.`);
      return;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    if (failures > 0) bus.emit(RESYNC, null);
    failures = 0;
    client = next;
  };
  const retry = () => {
    if (timer) return;
    const delay = RECONNECT_MS[Math.min(failures, RECONNECT_MS.length - 1)];
    failures += 1;
    timer = setTimeout(() => {
      timer = undefined;
      void connect().then(() => {
        if (!client && !closed) retry();
      });
    }, delay);
    timer.unref();
  };
  void connect().then(() => {
    if (!client && !closed) retry();
  });

  return {
    on(channel, listener) {
      bus.on(channel, listener);
      return () => bus.off(channel, listener);
    },
    get listening() {
      return client !== undefined;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
