import { describe, expect, test } from "vitest";
import { describeExpectedStart, mayTake, startsInSeconds, takesBefore, workAhead, type QueuedRender } from "./work-ahead";

// ada owns r; bo and cy are helpers.
const ADA = 1;
const BO = 2;
const CY = 3;

const render = (id: number, over: Partial<QueuedRender> = {}): QueuedRender => ({
  id,
  ownerId: ADA,
  priceMilli: 1000,
  createdAt: id * 1000,
  acceptedBy: [],
  asksOthers: true,
  remainingWu: 10,
  ...over,
});

describe("the claim's order for one worker owner", () => {
  // [case, helper, q, r, q goes first]
  test.each([
    ["own before another's, whatever the price", BO, render(1, { ownerId: BO, priceMilli: 1 }), render(2, { priceMilli: 9000 }), true],
    ["another's after own, whatever the price", BO, render(1, { priceMilli: 9000 }), render(2, { ownerId: BO, priceMilli: 1 }), false],
    ["dearer first", BO, render(2, { priceMilli: 2000 }), render(1), true],
    ["cheaper after", BO, render(1, { priceMilli: 500 }), render(2), false],
    ["same price: older first", BO, render(1), render(2), true],
    ["same price: newer after", BO, render(2), render(1), false],
    ["same price and time: lower id first", BO, render(1, { createdAt: 5 }), render(2, { createdAt: 5 }), true],
    ["the owner's own workers: their own by price too", ADA, render(2, { priceMilli: 2000 }), render(1), true],
  ] as const)("%s", (_case, helper, q, r, first) => {
    expect(takesBefore(helper, q, r)).toBe(first);
    expect(takesBefore(helper, r, q)).toBe(!first);
  });

  test("a worker takes its owner's renders, and others' only accepted and asking", () => {
    expect(mayTake(ADA, render(1))).toBe(true);
    expect(mayTake(BO, render(1))).toBe(false);
    expect(mayTake(BO, render(1, { acceptedBy: [BO] }))).toBe(true);
    expect(mayTake(BO, render(1, { acceptedBy: [BO], asksOthers: false }))).toBe(false);
  });
});

describe("the work ahead of a render", () => {
  const r = render(10, { priceMilli: 2000, createdAt: 50_000 });
  const queue = [
    render(1, { ownerId: BO, priceMilli: 100, remainingWu: 5 }), // bo's own: ahead on bo's workers
    render(2, { ownerId: CY, priceMilli: 3000, acceptedBy: [BO], remainingWu: 7 }), // dearer, bo accepted
    render(3, { ownerId: CY, priceMilli: 3000, remainingWu: 100 }), // dearer, nobody accepted: only cy's workers
    render(4, { ownerId: CY, priceMilli: 1000, acceptedBy: [BO], remainingWu: 11 }), // cheaper
    render(5, { ownerId: CY, priceMilli: 2000, createdAt: 1, acceptedBy: [BO], remainingWu: null }), // same price, older, unmeasured
    render(6, { priceMilli: 2500, remainingWu: 3 }), // ada's own, dearer: ahead on her own workers only
  ];

  test("on bo's workers: bo's own, and the dearer or older he accepted", () => {
    expect(workAhead(r, queue, [BO])).toEqual({ renderIds: [1, 2, 5], wu: 12, unmeasured: 1 });
  });

  test("on ada's own workers: her dearer render", () => {
    expect(workAhead(r, queue, [ADA])).toEqual({ renderIds: [6], wu: 3, unmeasured: 0 });
  });

  test("pooled: a render ahead on any of the workers counts once", () => {
    expect(workAhead(r, queue, [ADA, BO, BO])).toEqual({ renderIds: [1, 2, 5, 6], wu: 15, unmeasured: 1 });
    expect(workAhead(r, queue, []).renderIds).toEqual([]);
  });

  test("a higher price moves it ahead of the dearer ones; the own-first rule stays", () => {
    expect(workAhead({ ...r, priceMilli: 5000 }, queue, [BO])).toEqual({ renderIds: [1], wu: 5, unmeasured: 0 });
  });

  test("the render itself is not ahead of itself", () => {
    expect(workAhead(r, [...queue, r], [BO]).renderIds).not.toContain(10);
  });
});

test("when it begins: the WU ahead at the workers' pooled speed", () => {
  expect(startsInSeconds(30, [2, 1])).toBe(600);
  expect(startsInSeconds(0, [2])).toBe(0);
  expect(startsInSeconds(0, [])).toBeNull();
  expect(startsInSeconds(30, [0])).toBeNull();
});

test("the expected start in words", () => {
  const start = { price: 2, wuAhead: 34, rendersAhead: 3, unmeasuredAhead: 0, workers: 2, othersWorkers: 1, startsInSeconds: 330 };
  expect(describeExpectedStart(start)).toBe("At 2.00 credits/WU: 34.0 WU ahead in 3 renders; it would begin in about 5 min 30 s on 2 workers online.");
  expect(describeExpectedStart({ ...start, rendersAhead: 1, unmeasuredAhead: 1, workers: 1 })).toBe(
    "At 2.00 credits/WU: 34.0 WU ahead in 1 render (1 not measured yet); it would begin in about 5 min 30 s on 1 worker online.",
  );
  expect(describeExpectedStart({ ...start, rendersAhead: 0, wuAhead: 0, startsInSeconds: 0 })).toBe(
    "At 2.00 credits/WU: nothing ahead; it would begin at once on 2 workers online.",
  );
  expect(describeExpectedStart({ ...start, workers: 0, startsInSeconds: null })).toBe("At 2.00 credits/WU: no worker that would take it is online.");
});
