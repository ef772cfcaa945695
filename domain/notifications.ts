// What the farm tells people by web push (docs/design.md §6): the events, their words,
// and how the service worker shows them. The server builds a PushMessage from an event's
// source row (app/lib/push/); the service worker (app/sw/) shows it as it came.
//
// Adding an event is three small steps: its name, label and message here (with a test in
// notifications.test.ts); a source that turns a committed row into it (a notice of the
// render lifecycle table, or a row of worker_events; see app/lib/push/sources.server.ts);
// nothing else — the switches on Me, the stored preferences and the sender follow the list.

import type { RenderNotice } from "./render-lifecycle";
import { formatCredits } from "./work-units";

export const NOTIFICATION_EVENTS = [
  "render-finished",
  "render-failed",
  "needs-credits",
  "quote-ready",
  "request-awaits",
  "worker-offline",
  "worker-failing",
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** The switches on Me: what each event is, in a person's words. */
export const NOTIFICATION_EVENT_LABELS: Record<NotificationEvent, string> = {
  "render-finished": "My render finished",
  "render-failed": "My render failed",
  "needs-credits": "My render needs credits",
  "quote-ready": "My quote is ready",
  "request-awaits": "A render request awaits my acceptance",
  "worker-offline": "My worker went offline",
  "worker-failing": "My worker keeps failing",
};

export function isNotificationEvent(value: unknown): value is NotificationEvent {
  return (NOTIFICATION_EVENTS as readonly unknown[]).includes(value);
}

/** What a push carries: the service worker shows it as it is. */
export interface PushMessage {
  event: NotificationEvent;
  title: string;
  body: string;
  /** The page a tap opens, a path of this server. */
  url: string;
  /** Notifications with the same tag replace each other: one per render or worker. */
  tag: string;
}

/** The render lifecycle's notices (domain/render-lifecycle.ts) are events of the same names. */
export const RENDER_NOTICE_EVENTS: Record<RenderNotice, NotificationEvent> = {
  "quote-ready": "quote-ready",
  "render-finished": "render-finished",
  "render-failed": "render-failed",
  "needs-credits": "needs-credits",
  "request-awaits": "request-awaits",
};

/**
 * Who hears a notice of the lifecycle: the render's owner, or the people whose workers
 * a confirmed render asks for and who have not answered it (by hand or by their
 * standing rule; see app/lib/push/sources.server.ts).
 */
export const RENDER_NOTICE_AUDIENCE: Record<RenderNotice, "owner" | "asked"> = {
  "quote-ready": "owner",
  "render-finished": "owner",
  "render-failed": "owner",
  "needs-credits": "owner",
  "request-awaits": "asked",
};

export interface RenderFacts {
  id: number;
  filename: string;
  framesDone: number;
  totalFrames: number;
  /** Why it failed, when it did. */
  error?: string | null;
  /** Whose render it is, and its price in credits per WU: what a request says. */
  owner?: string;
  price?: number;
}

const plural = (count: number, word: string) => `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
const clip = (text: string, length = 140) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

export function renderMessage(notice: RenderNotice, render: RenderFacts): PushMessage {
  const url = `/renders/${render.id}`;
  const tag = `render-${render.id}`;
  const event = RENDER_NOTICE_EVENTS[notice];
  switch (notice) {
    case "render-finished":
      return {
        event,
        url,
        tag,
        title: `Render ${render.id} is done`,
        body: `${render.filename}: ${plural(render.framesDone, "frame")} ready to download.`,
      };
    case "render-failed":
      return {
        event,
        url,
        tag,
        title: `Render ${render.id} failed`,
        body: `${render.filename}: ${render.error ? clip(render.error) : "its page says why."}`,
      };
    case "needs-credits":
      return {
        event,
        url,
        tag,
        title: `Render ${render.id} needs credits`,
        body: `${render.filename} stopped after ${plural(render.framesDone, "frame")}: top up or lower its price to go on.`,
      };
    case "quote-ready":
      return {
        event,
        url,
        tag,
        title: `Render ${render.id}: the quote is ready`,
        body: `${render.filename}, ${plural(render.totalFrames, "frame")}: confirm it to start rendering.`,
      };
    case "request-awaits":
      // To a worker owner: what is asked and what it pays; the Requests tab has the scene's facts.
      return {
        event,
        url: "/requests",
        tag: `request-${render.id}`,
        title: `${render.owner ?? "Someone"} asks for your workers`,
        body:
          `${render.filename}, ${plural(render.totalFrames, "frame")} at ${formatCredits(render.price ?? 0)} credits per WU: ` +
          "accept or decline it on Requests.",
      };
  }
}

export interface WorkerFacts {
  id: number;
  name: string;
}

export function workerOfflineMessage(worker: WorkerFacts, { minutes }: { minutes: number }): PushMessage {
  return {
    event: "worker-offline",
    url: "/workers",
    tag: `worker-${worker.id}`,
    title: `${worker.name} went offline`,
    body: `Its agent has not called for ${plural(minutes, "minute")}; check the machine, its network and \`cactus-agent doctor\`.`,
  };
}

/** Failures of a worker in a row (within an hour, no frame accepted between) that say it keeps failing. */
export const WORKER_FAILURES_IN_A_ROW = 3;

export function workerFailingMessage(worker: WorkerFacts, { failures, error }: { failures: number; error: string }): PushMessage {
  return {
    event: "worker-failing",
    url: "/workers",
    tag: `worker-${worker.id}`,
    title: `${worker.name} keeps failing`,
    body: `${plural(failures, "task")} failed in a row; the last error: ${clip(error, 110)}`,
  };
}

/** How the service worker shows a message. */
export function notificationOptions(message: PushMessage): NotificationOptions & { renotify?: boolean } {
  return {
    body: message.body,
    icon: "/icons/icon-192.png",
    tag: message.tag,
    // A repeat under the same tag replaces the old one and still alerts.
    renotify: true,
    data: { url: message.url, event: message.event },
  };
}
