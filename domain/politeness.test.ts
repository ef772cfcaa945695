import { describe, expect, test } from "vitest";
import { type MachineSample, OwnerActivity } from "./politeness";

const RULES = { busyCpu: 0.5, busyAfterMs: 30_000, idleAfterMs: 120_000 };

/** Feeds a sample every 5 s from `from` for `forMs`, all alike; answers the last verdict. */
function feed(activity: OwnerActivity, from: number, forMs: number, sample: Omit<MachineSample, "at">) {
  let verdict = activity.verdict();
  for (let at = from; at < from + forMs; at += 5000) verdict = activity.add({ at, ...sample });
  return verdict;
}
const quiet = { othersCpu: 0.1, interactiveBlender: null };
const loaded = { othersCpu: 0.8, interactiveBlender: null };

describe("an agent on its owner's machine", () => {
  test("works while the machine is quiet", () => {
    const activity = new OwnerActivity(RULES);
    expect(feed(activity, 0, 600_000, quiet)).toEqual({ busy: false });
  });

  test("pauses once other programs kept the CPU busy for a whole window, not for a moment", () => {
    const activity = new OwnerActivity(RULES);
    feed(activity, 0, 60_000, quiet);
    // A 10 s compile: not enough.
    expect(feed(activity, 60_000, 10_000, { othersCpu: 1, interactiveBlender: null })).toEqual({ busy: false });
    expect(feed(activity, 70_000, 60_000, quiet)).toEqual({ busy: false });
    // Half a minute of a game: pause, saying why.
    expect(feed(activity, 130_000, 15_000, loaded)).toEqual({ busy: false });
    expect(feed(activity, 145_000, 20_000, loaded)).toEqual({ busy: true, reason: "other programs keep 80 % of the CPU busy" });
  });

  test("pauses at once when Blender is open on the desktop", () => {
    const activity = new OwnerActivity(RULES);
    feed(activity, 0, 60_000, quiet);
    expect(activity.add({ at: 60_000, othersCpu: 0.05, interactiveBlender: "blender shot.blend" })).toEqual({
      busy: true,
      reason: "Blender is open on this machine (blender shot.blend)",
    });
  });

  test("resumes only after two quiet minutes since the machine last looked busy", () => {
    const activity = new OwnerActivity(RULES);
    feed(activity, 0, 60_000, loaded);
    expect(activity.verdict().busy).toBe(true);
    // Quiet, but still busy on average for a while, then quiet for less than two minutes: paused.
    expect(feed(activity, 60_000, 100_000, quiet)).toMatchObject({ busy: true });
    // Blender opened and closed again: the wait starts over.
    activity.add({ at: 160_000, othersCpu: 0.1, interactiveBlender: "blender" });
    expect(feed(activity, 165_000, 115_000, quiet)).toMatchObject({ busy: true, reason: "Blender is open on this machine (blender)" });
    expect(feed(activity, 280_000, 10_000, quiet)).toEqual({ busy: false });
  });

  test("the reason follows what keeps it paused", () => {
    const activity = new OwnerActivity(RULES);
    activity.add({ at: 0, othersCpu: 0.9, interactiveBlender: "blender" });
    expect(feed(activity, 5000, 40_000, { othersCpu: 0.9, interactiveBlender: null })).toEqual({
      busy: true,
      reason: "other programs keep 90 % of the CPU busy",
    });
  });
});
