import { expect, test } from "vitest";
import { confirmLabel, timeRow } from "./quote-text";

test("the time row says the render waits for a confirmation while it does: quoted, or sampling a quote-first render", () => {
  expect(timeRow({ status: "quoted", estimateOnly: true }, 30)).toEqual({ label: "Takes", text: "about 30 s once confirmed" });
  // Sampling a render asked for "Quote first": it will not be done in 30 s, it will wait.
  expect(timeRow({ status: "estimating", estimateOnly: true }, 30)).toEqual({ label: "Takes", text: "about 30 s once confirmed" });
  // Sampling a render that carries on by itself, and rendering: it will be.
  expect(timeRow({ status: "estimating", estimateOnly: false }, 30)).toEqual({ label: "Done in", text: "about 30 s" });
  expect(timeRow({ status: "rendering", estimateOnly: true }, 95)).toEqual({ label: "Done in", text: "about 1 min 35 s" });
});

test("the time row says when nothing is left to render, and when no worker is online", () => {
  // A short quote-first render whose frames were all samples: not "about 0 s once confirmed".
  expect(timeRow({ status: "quoted", estimateOnly: true }, 0)).toEqual({ label: "Takes", text: "nothing left to render" });
  expect(timeRow({ status: "queued", estimateOnly: false }, null)).toEqual({ label: "Done in", text: "— no worker of yours is online to render it" });
});

test("Confirm says what it sets going, and that nothing is left when every frame was a sample", () => {
  expect(confirmLabel(38)).toBe("Confirm — render the other 38 frames");
  expect(confirmLabel(1)).toBe("Confirm — render the other 1 frame");
  expect(confirmLabel(0)).toBe("Confirm — every frame is already rendered");
});
