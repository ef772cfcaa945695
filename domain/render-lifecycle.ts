// A render's life (docs/design.md §1, §3, §4) as one table: which event may happen in which
// status, the status it leads to, and what else changes with it. db/sql/render-status.ts
// is the only code that writes a render's status, and it writes it from this table;
// every change is also a row of the render_events outbox, which the live pages and
// notifications read (decision 012).

export const RENDER_STATUSES = [
  "estimating",
  "quoted",
  "queued",
  "rendering",
  "paused",
  "needs-credits",
  "done",
  "cancelled",
  "failed",
] as const;
export type RenderStatus = (typeof RENDER_STATUSES)[number];

/** Renders whose tasks may be handed out (an estimating render's sample tasks only). */
export const RUNNABLE_RENDER_STATUSES = ["estimating", "queued", "rendering"] as const satisfies readonly RenderStatus[];
/** Renders that will not change again. */
export const FINISHED_RENDER_STATUSES = ["done", "cancelled", "failed"] as const satisfies readonly RenderStatus[];
/** Renders not finished yet: they hold on to their archive and may still cost credits. */
export const UNFINISHED_RENDER_STATUSES = RENDER_STATUSES.filter(
  (status) => !(FINISHED_RENDER_STATUSES as readonly RenderStatus[]).includes(status),
) as Exclude<RenderStatus, (typeof FINISHED_RENDER_STATUSES)[number]>[];

export function isRenderRunnable(status: RenderStatus): boolean {
  return (RUNNABLE_RENDER_STATUSES as readonly RenderStatus[]).includes(status);
}

export function isRenderFinished(status: RenderStatus): boolean {
  return (FINISHED_RENDER_STATUSES as readonly RenderStatus[]).includes(status);
}

export const RENDER_EVENTS = [
  /** The owner asked for it: estimating first, or queued when there is nothing to sample. */
  "requested",
  /** The sample frames are in and the quote is made. */
  "sampled",
  /** The owner accepted the quote (or had pre-authorised it). */
  "confirmed",
  /** A task of a queued render was handed out for the first time. */
  "started",
  "paused",
  "resumed",
  "cancelled",
  /** Every task is done. */
  "finished",
  /** A task failed on as many workers as fail it, or with an error every worker would hit. */
  "failed",
  /** Its escrow cannot pay for the next frame. */
  "ran-out-of-credits",
  /** The owner topped up, or lowered the price, so the escrow covers it again. */
  "credited",
] as const;
export type RenderEvent = (typeof RENDER_EVENTS)[number];

/** What else a status change does, besides writing the status and the outbox row. */
export type RenderEffect =
  /** started_at, the first time. */
  | "stamp-started"
  | "stamp-finished"
  /** Its tasks still queued or leased are cancelled (leased ones hear "stop" on their next heartbeat). */
  | "cancel-open-tasks"
  /** The frames not sampled become tasks: until the quote is confirmed only the sample frames exist (decision 014). */
  | "queue-unsampled-frames"
  /** The quote's upper bound moves from the owner's balance into the render's escrow (decision 023). */
  | "escrow-quote"
  /** What is left in the escrow goes back to the owner. */
  | "release-escrow";

/**
 * What a person may be told about (a web push, docs/design.md §6): its owner, except
 * "request-awaits", which is for the people whose workers a confirmed render now asks
 * for (docs/design.md §5; domain/notifications.ts says who hears which).
 */
export type RenderNotice = "quote-ready" | "render-finished" | "render-failed" | "needs-credits" | "request-awaits";

/** What the table's target may depend on besides the status: read from the render and its outbox. */
export interface LifecycleContext {
  /** The render was requested with nothing to sample (skips estimating). */
  skipsSampling?: boolean;
  /** The status a paused render was paused in; null for one paused before the outbox existed. */
  pausedFrom?: RenderStatus | null;
  /** A task of it was ever handed out (started_at is set). */
  started?: boolean;
  /** Its owner confirms the quote (estimate-only); otherwise the quote is confirmed as it is made. */
  estimateOnly?: boolean;
}

interface Rule {
  from: readonly (RenderStatus | null)[];
  to: RenderStatus | ((context: LifecycleContext) => RenderStatus);
  effects?: readonly RenderEffect[];
  notice?: RenderNotice | ((context: LifecycleContext) => RenderNotice | null);
}

const PAUSABLE = ["estimating", "queued", "rendering", "needs-credits"] as const;
const UNFINISHED = UNFINISHED_RENDER_STATUSES;

const RULES: Record<RenderEvent, Rule> = {
  requested: { from: [null], to: ({ skipsSampling }) => (skipsSampling ? "queued" : "estimating") },
  // Only a quote that waits for its owner is news; one confirmed as it is made is not.
  sampled: { from: ["estimating"], to: "quoted", notice: ({ estimateOnly }) => (estimateOnly === false ? null : "quote-ready") },
  // Confirmed against its quote, it holds an escrow and asks other people's workers.
  confirmed: {
    from: ["quoted"],
    to: ({ started }) => (started ? "rendering" : "queued"),
    effects: ["queue-unsampled-frames", "escrow-quote"],
    notice: "request-awaits",
  },
  started: { from: ["queued"], to: "rendering", effects: ["stamp-started"] },
  paused: { from: PAUSABLE, to: "paused" },
  resumed: {
    from: ["paused"],
    // Back where it was; before the outbox, paused renders were queued or rendering.
    to: ({ pausedFrom, started }) => pausedFrom ?? (started ? "rendering" : "queued"),
  },
  cancelled: { from: UNFINISHED, to: "cancelled", effects: ["stamp-finished", "cancel-open-tasks", "release-escrow"] },
  finished: { from: ["queued", "rendering"], to: "done", effects: ["stamp-finished", "release-escrow"], notice: "render-finished" },
  failed: {
    from: UNFINISHED,
    to: "failed",
    effects: ["stamp-finished", "cancel-open-tasks", "release-escrow"],
    notice: "render-failed",
  },
  "ran-out-of-credits": { from: ["queued", "rendering"], to: "needs-credits", notice: "needs-credits" },
  credited: { from: ["needs-credits"], to: ({ started }) => (started ? "rendering" : "queued") },
};

export interface Transition {
  from: RenderStatus | null;
  to: RenderStatus;
  event: RenderEvent;
  effects: readonly RenderEffect[];
  notice: RenderNotice | null;
}

/**
 * What `event` does to a render in `status` (null: not yet created), or null when the
 * event cannot happen in that status (a cancel of a finished render, a confirm of a
 * render that is not quoted): the caller answers with a conflict or does nothing.
 */
export function transition(
  status: RenderStatus | null,
  event: RenderEvent,
  context: LifecycleContext = {},
): Transition | null {
  const rule = RULES[event];
  if (!rule.from.includes(status)) return null;
  const to = typeof rule.to === "function" ? rule.to(context) : rule.to;
  const notice = typeof rule.notice === "function" ? rule.notice(context) : (rule.notice ?? null);
  return { from: status, to, event, effects: rule.effects ?? [], notice };
}

/** The events that may happen to a render in this status: what the pages offer. */
export function eventsFrom(status: RenderStatus | null): RenderEvent[] {
  return RENDER_EVENTS.filter((event) => RULES[event].from.includes(status));
}

export interface TaskTally {
  queued: number;
  leased: number;
  done: number;
  failed: number;
  cancelled: number;
}

/**
 * The event a render's tasks call for, or null: a failed task fails the render; all
 * tasks done finish it — or, while it is estimating, when its tasks are its sample
 * frames alone, end its sampling; the first task out starts a queued one. The owner's
 * choices (paused) and the economy's states (quoted, needs-credits) are not the tasks'
 * to change.
 */
export function eventFromTasks(status: RenderStatus, tally: TaskTally): RenderEvent | null {
  if (isRenderFinished(status)) return null;
  if (tally.failed > 0) return "failed";
  if (!isRenderRunnable(status)) return null;
  const total = tally.queued + tally.leased + tally.done + tally.failed + tally.cancelled;
  if (total > 0 && tally.done === total) return status === "estimating" ? "sampled" : "finished";
  if (status === "queued" && tally.leased + tally.done > 0) return "started";
  return null;
}

/** Why an agent should stop a task of a render in this status, or null when it may go on. */
export function reasonToStop(status: RenderStatus): string | null {
  if (isRenderRunnable(status)) return null;
  if (status === "paused") return "The render was paused.";
  if (status === "needs-credits") return "The render ran out of credits.";
  if (status === "quoted") return "The render waits for its owner to confirm the quote.";
  return `The render is ${status}.`;
}
