import { describe, expect, test } from "vitest";
import {
  RENDER_EVENTS,
  RENDER_STATUSES,
  eventFromTasks,
  eventsFrom,
  isRenderFinished,
  isRenderRunnable,
  reasonToStop,
  transition,
  type RenderEvent,
  type RenderStatus,
  type TaskTally,
} from "./render-lifecycle";

// The whole table, written out: every (status, event) pair that is allowed and where it
// leads (with the default context). Any pair not here must be refused.
const ALLOWED: Record<string, RenderStatus> = {
  "null requested": "estimating",
  "estimating sampled": "quoted",
  "quoted confirmed": "queued",
  "queued started": "rendering",
  ...Object.fromEntries(["estimating", "queued", "rendering", "needs-credits"].map((s) => [`${s} paused`, "paused"])),
  "paused resumed": "queued",
  ...Object.fromEntries(
    ["estimating", "quoted", "queued", "rendering", "paused", "needs-credits"].flatMap((s) => [
      [`${s} cancelled`, "cancelled"],
      [`${s} failed`, "failed"],
    ]),
  ),
  ...Object.fromEntries(["queued", "rendering"].map((s) => [`${s} finished`, "done"])),
  "queued ran-out-of-credits": "needs-credits",
  "rendering ran-out-of-credits": "needs-credits",
  "needs-credits credited": "queued",
};

test("every (status, event) pair is either in the table or refused", () => {
  for (const status of [null, ...RENDER_STATUSES]) {
    for (const event of RENDER_EVENTS) {
      const key = `${status} ${event}`;
      expect(transition(status, event)?.to ?? null, key).toBe(ALLOWED[key] ?? null);
    }
  }
});

test("finished renders take no event at all", () => {
  for (const status of ["done", "cancelled", "failed"] as const) expect(eventsFrom(status)).toEqual([]);
});

describe("targets that depend on the render", () => {
  test("a render with nothing to sample is queued at once", () => {
    expect(transition(null, "requested", { skipsSampling: true })?.to).toBe("queued");
  });

  test("resume goes back to the status it was paused in", () => {
    for (const from of ["estimating", "queued", "rendering", "needs-credits"] as const) {
      expect(transition("paused", "resumed", { pausedFrom: from })?.to).toBe(from);
    }
    // Paused before the outbox kept where from: by whether it had started.
    expect(transition("paused", "resumed", { pausedFrom: null, started: true })?.to).toBe("rendering");
  });

  test("confirming or crediting a render that had started carries on rendering", () => {
    expect(transition("quoted", "confirmed", { started: true })?.to).toBe("rendering");
    expect(transition("needs-credits", "credited", { started: true })?.to).toBe("rendering");
  });
});

test("effects and notices", () => {
  expect(transition("queued", "started")?.effects).toEqual(["stamp-started"]);
  expect(transition("rendering", "cancelled")?.effects).toEqual(["stamp-finished", "cancel-open-tasks", "release-escrow"]);
  expect(transition("rendering", "failed")).toMatchObject({
    effects: ["stamp-finished", "cancel-open-tasks", "release-escrow"],
    notice: "render-failed",
  });
  expect(transition("rendering", "finished")).toMatchObject({ effects: ["stamp-finished", "release-escrow"], notice: "render-finished" });
  // Every way into a finished status gives the escrow back; only a confirm takes one.
  for (const status of [null, ...RENDER_STATUSES]) {
    for (const event of RENDER_EVENTS) {
      const change = transition(status, event, { started: true });
      if (!change) continue;
      expect(change.effects.includes("release-escrow"), `${status} --${event}-->`).toBe(isRenderFinished(change.to));
      expect(change.effects.includes("escrow-quote"), `${status} --${event}-->`).toBe(event === "confirmed");
    }
  }
  expect(transition("estimating", "sampled")?.notice).toBe("quote-ready");
  expect(transition("estimating", "sampled", { estimateOnly: true })?.notice).toBe("quote-ready");
  // Confirmed in the same breath: nobody needs telling.
  expect(transition("estimating", "sampled", { estimateOnly: false })).toMatchObject({ to: "quoted", notice: null });
  expect(transition("quoted", "confirmed")).toMatchObject({ effects: ["queue-unsampled-frames", "escrow-quote"], notice: "request-awaits" });
  expect(transition("rendering", "ran-out-of-credits")?.notice).toBe("needs-credits");
  expect(transition("rendering", "paused")).toMatchObject({ effects: [], notice: null });
});

const tally = (counts: Partial<TaskTally>): TaskTally => ({ queued: 0, leased: 0, done: 0, failed: 0, cancelled: 0, ...counts });

describe("eventFromTasks", () => {
  const cases: [RenderStatus, Partial<TaskTally>, RenderEvent | null][] = [
    ["rendering", { done: 12 }, "finished"],
    ["rendering", { done: 3, failed: 1, queued: 8 }, "failed"],
    ["paused", { done: 3, failed: 1, queued: 8 }, "failed"],
    ["queued", { leased: 1, queued: 11 }, "started"],
    ["queued", { done: 1, queued: 11 }, "started"],
    ["queued", { queued: 12 }, null],
    ["paused", { done: 3, queued: 9 }, null],
    ["paused", { done: 12 }, null],
    ["needs-credits", { done: 12 }, null],
    ["estimating", { leased: 2, queued: 10 }, null],
    // An estimating render's tasks are its sample frames: all done ends the sampling.
    ["estimating", { done: 10 }, "sampled"],
    ["estimating", { done: 9, failed: 1 }, "failed"],
    ["rendering", { done: 11, leased: 1 }, null],
    ["cancelled", { done: 12 }, null],
    ["failed", { done: 12 }, null],
    ["done", { done: 12 }, null],
    ["queued", {}, null],
  ];
  test.each(cases)("%s with %o → %s", (status, counts, event) => {
    expect(eventFromTasks(status, tally(counts))).toBe(event);
    // Whatever it asks for is allowed in that status.
    if (event) expect(transition(status, event)).not.toBeNull();
  });
});

test("agents stop tasks of renders that are not runnable, and say why", () => {
  expect(isRenderRunnable("rendering")).toBe(true);
  expect(reasonToStop("queued")).toBeNull();
  expect(reasonToStop("estimating")).toBeNull();
  expect(reasonToStop("paused")).toBe("The render was paused.");
  expect(reasonToStop("needs-credits")).toBe("The render ran out of credits.");
  expect(reasonToStop("cancelled")).toBe("The render is cancelled.");
});
