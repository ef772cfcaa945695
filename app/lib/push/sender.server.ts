import webpush from "web-push";
import type { Sequelize } from "sequelize";
import {
  deliveryFailed,
  deliverySent,
  subscriptionGone,
  takeDueDeliveries,
  type DueDelivery,
} from "../../../db/sql/push";
import { noteWorkersOffline } from "../../../db/sql/worker-events";
import { OFFLINE_AFTER_MS } from "../../../domain/worker-status";
import { RENDER_EVENTS_CHANNEL, RESYNC, WORKER_EVENTS_CHANNEL, type DatabaseEvents } from "../db-events.server";
import { collectPushes, COLLECT_DELAY_MS } from "./sources.server";
import type { VapidKeys } from "./vapid.server";

// Sends the farm's web pushes (decision 021), off every request's path: a request only
// commits the row that calls for a push (the render lifecycle's outbox, worker_events).
// Each replica runs one of these: woken by the database's notifications (and every
// SWEEP_MS for retries and anything missed), it turns new rows into deliveries and sends
// the due ones through web-push. A push service that is slow, down or refusing delays
// only its own deliveries; each is retried a bounded number of times.

const SWEEP_MS = 15_000;
/** Tries of one push, then it is dropped (and logged). */
export const MAX_ATTEMPTS = 5;
/** Seconds before the next try, by tries so far. */
const BACKOFF_SECONDS = [15, 60, 300, 1800];
/** A push service that does not answer in this long counts as a failed try. */
const SEND_TIMEOUT_MS = 10_000;
/** Sent at once, at most. */
const CONCURRENCY = 8;

export interface PushSender {
  /** Collects and sends now; resolves when this pass is done (tests, and shutdown). */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

export function startPushSender(
  sequelize: Sequelize,
  events: DatabaseEvents,
  vapid: VapidKeys,
  log: (message: string) => void,
): PushSender {
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  const timers = new Set<NodeJS.Timeout>();
  let lastDue = 0;

  const pass = async () => {
    try {
      await collectPushes();
      for (let due = await takeDueDeliveries(sequelize); due.length > 0 && !stopped; due = await takeDueDeliveries(sequelize)) {
        for (let index = 0; index < due.length; index += CONCURRENCY) {
          await Promise.all(due.slice(index, index + CONCURRENCY).map((delivery) => send(sequelize, vapid, delivery, log)));
        }
      }
    } catch (error) {
      if (!stopped) log(`Web push: a pass failed (trying again in ${SWEEP_MS / 1000} s): ${String(error)}`);
    }
  };
  const runNow = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = pass().finally(() => {
      running = null;
      if (again && !stopped) {
        again = false;
        void runNow();
      }
    });
    return running;
  };
  // A pass once the notified row can be read: a pass already waiting for an earlier row
  // comes too early for this one, so each gets its own (those close together share one).
  const soon = () => {
    const due = Date.now() + COLLECT_DELAY_MS;
    if (stopped || due - lastDue < 250) return;
    lastDue = due;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void runNow();
    }, COLLECT_DELAY_MS);
    timers.add(timer);
  };
  const offListeners = [events.on(RENDER_EVENTS_CHANNEL, soon), events.on(WORKER_EVENTS_CHANNEL, soon), events.on(RESYNC, soon)];
  // Also notes the workers that went offline: a row, and so a notification, per silence.
  const sweep = setInterval(() => {
    void noteWorkersOffline(sequelize, OFFLINE_AFTER_MS)
      .catch((error: unknown) => log(`Web push: could not look for workers gone offline: ${String(error)}`))
      .then(runNow);
  }, SWEEP_MS);
  void runNow();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(sweep);
      for (const timer of timers) clearTimeout(timer);
      for (const off of offListeners) off();
      await running;
    },
  };
}

async function send(sequelize: Sequelize, vapid: VapidKeys, delivery: DueDelivery, log: (message: string) => void): Promise<void> {
  try {
    // web-push encrypts the payload (RFC 8291) and signs the request (VAPID, RFC 8292);
    // fetch sends it, so a slow service times out and a stand-in one on loopback can be
    // plain http (web-push's own sender speaks https only).
    const request = webpush.generateRequestDetails(
      { endpoint: delivery.endpoint, keys: { p256dh: delivery.p256dh, auth: delivery.auth } },
      JSON.stringify(delivery.message),
      {
        vapidDetails: vapid,
        TTL: 24 * 3600,
        urgency: "normal",
        // A newer push with the same topic replaces one the push service still holds.
        topic: topicOf(delivery.message),
      },
    );
    const response = await fetch(request.endpoint, {
      method: request.method,
      headers: request.headers as Record<string, string>,
      body: request.body === null ? null : new Uint8Array(request.body as Buffer),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { statusCode: response.status });
    await deliverySent(sequelize, delivery);
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404 || status === 410) {
      await subscriptionGone(sequelize, delivery);
      return;
    }
    const why = status ? `the push service answered ${status}` : String((error as Error).message ?? error);
    // 429 and 5xx and no answer are worth another try; any other answer will not change.
    const retry = status === undefined || status === 429 || status >= 500;
    if (retry && delivery.attempts < MAX_ATTEMPTS) {
      await deliveryFailed(sequelize, delivery, why, BACKOFF_SECONDS[Math.min(delivery.attempts - 1, BACKOFF_SECONDS.length - 1)]);
      return;
    }
    log(`Web push: dropped a push to ${new URL(delivery.endpoint).host} after ${delivery.attempts} tries: ${why}`);
    await deliveryFailed(sequelize, delivery, why, null);
  }
}

/** The Topic header: up to 32 URL-safe characters, from the message's tag. */
function topicOf(message: object): string | undefined {
  const tag = (message as { tag?: unknown }).tag;
  return typeof tag === "string" ? tag.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 32) : undefined;
}
