import { expect, test } from "vitest";
import { engineHasSamples, engineLabel, sortEngines } from "./engines";

test("engines in the order people know them, add-ons' after by name, each once", () => {
  expect(sortEngines(["BLENDER_WORKBENCH", "CYCLES", "BLENDER_EEVEE"])).toEqual(["CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH"]);
  expect(sortEngines(["octane", "BLENDER_WORKBENCH", "LUXCORE", "CYCLES", "CYCLES"])).toEqual(["CYCLES", "BLENDER_WORKBENCH", "LUXCORE", "octane"]);
  expect(sortEngines([])).toEqual([]);
});

test("labels, and which engines have samples to set", () => {
  expect(["CYCLES", "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH", "LUXCORE"].map(engineLabel)).toEqual([
    "Cycles",
    "Eevee",
    "Eevee",
    "Workbench",
    "LUXCORE",
  ]);
  expect(engineHasSamples("BLENDER_WORKBENCH")).toBe(false);
  expect(engineHasSamples("BLENDER_EEVEE")).toBe(true);
});
