import { expect, test } from "vitest";
import {
  escrowAdjustment,
  escrowCovers,
  escrowTargetMilli,
  frameCostMilli,
  payableMilli,
  paymentMilli,
  paysWorkerOwner,
  taskCostMilli,
  toCredits,
  toMilli,
  withinPreauthorised,
} from "./ledger";

test("credits ↔ milli-credits, rounded once, half up", () => {
  expect(toMilli(1.5)).toBe(1500);
  expect(toMilli(0.0005)).toBe(1);
  expect(toMilli(0.0004)).toBe(0);
  expect(toCredits(2500)).toBe(2.5);
});

test("a frame pays WU × price, rounded to whole milli-credits; nothing for no WU or no price", () => {
  expect(paymentMilli(2, 1500)).toBe(3000);
  expect(paymentMilli(0.3333, 1000)).toBe(333);
  expect(paymentMilli(0.0005, 1000)).toBe(1);
  expect(paymentMilli(0, 1000)).toBe(0);
  expect(paymentMilli(3, 0)).toBe(0);
  expect(paymentMilli(Number.NaN, 1000)).toBe(0);
});

test("a payment never takes more than the escrow holds", () => {
  expect(payableMilli(3000, 10_000)).toBe(3000);
  expect(payableMilli(3000, 1200)).toBe(1200);
  expect(payableMilli(3000, 0)).toBe(0);
});

test("only another person's worker is paid, and only at a price", () => {
  expect(paysWorkerOwner({ renderOwnerId: 1, workerOwnerId: 2, priceMilli: 1000 })).toBe(true);
  expect(paysWorkerOwner({ renderOwnerId: 1, workerOwnerId: 1, priceMilli: 1000 })).toBe(false);
  expect(paysWorkerOwner({ renderOwnerId: 1, workerOwnerId: 2, priceMilli: 0 })).toBe(false);
});

test("the escrow holds the bound's WU not yet rendered at the price, rounded up, never below zero", () => {
  expect(escrowTargetMilli({ boundWu: 10, doneWu: 2, priceMilli: 1000 })).toBe(8000);
  expect(escrowTargetMilli({ boundWu: 10.0001, doneWu: 0, priceMilli: 1000 })).toBe(10_001);
  // 0.1 × 30 is 3.0000000000000004 in floating point: not a milli-credit more.
  expect(escrowTargetMilli({ boundWu: 0.1, doneWu: 0, priceMilli: 30 })).toBe(3);
  expect(escrowTargetMilli({ boundWu: 10, doneWu: 12, priceMilli: 1000 })).toBe(0);
});

test("a frame's worst cost is the quote's highest frame with a margin; a task's is that per frame; the escrow covers it or not", () => {
  expect(frameCostMilli(2, 1000)).toBe(3000);
  expect(taskCostMilli(4, 1500)).toBe(6000);
  expect(escrowCovers(6000, 4, 1500)).toBe(true);
  expect(escrowCovers(5999, 4, 1500)).toBe(false);
  expect(escrowCovers(0, 1, 0)).toBe(true);
});

test("what moves when the escrow should hold another amount; what the owner pre-authorised", () => {
  expect(escrowAdjustment(5000, 8000)).toBe(3000);
  expect(escrowAdjustment(5000, 2000)).toBe(-3000);
  expect(withinPreauthorised(5000, null)).toBe(true);
  expect(withinPreauthorised(5000, 5000)).toBe(true);
  expect(withinPreauthorised(5001, 5000)).toBe(false);
});
