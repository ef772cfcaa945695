import { expect, test } from "vitest";
import { BASE_FACTS, ELIGIBILITY_CASES, mayTakeRender, type EligibilityFacts } from "./eligibility";
import { FAILURES_TO_BLOCKLIST } from "./scheduler";

test.each(ELIGIBILITY_CASES.map((row) => [row.case, row.facts, row.may] as const))("%s: %j → %s", (_case, facts, may) => {
  expect(mayTakeRender({ ...BASE_FACTS, ...facts }, FAILURES_TO_BLOCKLIST)).toBe(may);
});

test("the table turns every fact, both ways, and names each case once", () => {
  const turned = new Set(ELIGIBILITY_CASES.flatMap((row) => Object.keys(row.facts)));
  expect([...turned].sort()).toEqual(Object.keys(BASE_FACTS).sort() as (keyof EligibilityFacts)[]);
  expect(ELIGIBILITY_CASES.filter((row) => row.may).length).toBeGreaterThan(5);
  expect(ELIGIBILITY_CASES.filter((row) => !row.may).length).toBeGreaterThan(5);
  expect(new Set(ELIGIBILITY_CASES.map((row) => row.case)).size).toBe(ELIGIBILITY_CASES.length);
});
