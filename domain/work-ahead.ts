import { etaSeconds } from "./estimate";
import { formatCredits, formatDuration, formatWu } from "./work-units";

// "Expected start at this price" (docs/design.md §4): the work the workers that would take
// a render hand out before it, and so when it would begin at their speed. The claim's
// order decides what is ahead (db/sql/claim.ts): a worker takes its owner's own renders
// first, then the renders its owner accepted; within each, the highest price per WU,
// then the oldest. db/sql/work-ahead.ts counts the same in SQL; a test replays these
// rules against it.

export interface QueuedRender {
  id: number;
  ownerId: number;
  priceMilli: number;
  /** When it was requested, in ms: the older goes first on a tie. */
  createdAt: number;
  /** The people who accepted it for their workers. */
  acceptedBy: readonly number[];
  /** Confirmed with an escrow: other people's workers may take it (once they accepted). */
  asksOthers: boolean;
  /** WU still to render (its live estimate); null while nothing of it is measured. */
  remainingWu: number | null;
}

/** A worker of `helper` may take q's tasks at all: q is theirs, or they accepted it and it asks. */
export function mayTake(helper: number, q: QueuedRender): boolean {
  return q.ownerId === helper || (q.asksOthers && q.acceptedBy.includes(helper));
}

/** A worker of `helper` hands out q's tasks before r's: its owner's own first, then by price, then the oldest. */
export function takesBefore(helper: number, q: Pick<QueuedRender, "id" | "ownerId" | "priceMilli" | "createdAt">, r: typeof q): boolean {
  const qOwn = q.ownerId === helper;
  const rOwn = r.ownerId === helper;
  if (qOwn !== rOwn) return qOwn;
  if (q.priceMilli !== r.priceMilli) return q.priceMilli > r.priceMilli;
  if (q.createdAt !== r.createdAt) return q.createdAt < r.createdAt;
  return q.id < r.id;
}

export interface WorkAhead {
  /** The renders ahead, by id. */
  renderIds: number[];
  /** Their remaining WU, of those measured. */
  wu: number;
  /** Renders ahead with nothing measured yet: their WU is not in `wu`. */
  unmeasured: number;
}

/**
 * What the workers of `helpers` (the owners of the workers that would take r) hand out
 * before r at `priceMilli`: each other render one of them may take and takes first. A
 * render ahead for any of them counts whole — the workers' speeds are pooled — so this is
 * the most that can be ahead.
 */
export function workAhead(r: QueuedRender, queue: readonly QueuedRender[], helpers: readonly number[]): WorkAhead {
  const ahead = queue.filter((q) => q.id !== r.id && helpers.some((helper) => mayTake(helper, q) && takesBefore(helper, q, r)));
  return {
    renderIds: ahead.map((q) => q.id).sort((a, b) => a - b),
    wu: ahead.reduce((sum, q) => sum + (q.remainingWu ?? 0), 0),
    unmeasured: ahead.filter((q) => q.remainingWu === null).length,
  };
}

/** Seconds until the workers (their WUPM) have rendered the WU ahead: 0 with nothing ahead; null with no worker to begin it. */
export function startsInSeconds(wuAhead: number, wupms: readonly number[]): number | null {
  if (!wupms.some((wupm) => wupm > 0)) return null;
  return etaSeconds(wuAhead, wupms);
}

export interface ExpectedStart {
  price: number;
  wuAhead: number;
  rendersAhead: number;
  unmeasuredAhead: number;
  workers: number;
  othersWorkers: number;
  startsInSeconds: number | null;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** "At 2.00 credits/WU: 34.0 WU ahead in 3 renders; it would begin in about 5 min on 2 workers online." */
export function describeExpectedStart(start: ExpectedStart): string {
  const at = `At ${formatCredits(start.price)} credits/WU`;
  if (start.startsInSeconds === null) return `${at}: no worker that would take it is online.`;
  const on = `on ${plural(start.workers, "worker")} online`;
  if (start.rendersAhead === 0) return `${at}: nothing ahead; it would begin at once ${on}.`;
  const unmeasured = start.unmeasuredAhead > 0 ? ` (${start.unmeasuredAhead} not measured yet)` : "";
  return (
    `${at}: ${formatWu(start.wuAhead)} WU ahead in ${plural(start.rendersAhead, "render")}${unmeasured}; ` +
    `it would begin in about ${formatDuration(start.startsInSeconds)} ${on}.`
  );
}
