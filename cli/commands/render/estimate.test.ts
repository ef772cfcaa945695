import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import type { RenderEstimateDto } from "../../../contract";
import { apiError, render } from "../../testing/fixtures";
import { API, cactus, loggedIn, setupCliTest } from "../../testing/run";

// render estimate, render confirm and request --estimate-only: the quote from the CLI.

const server = setupCliTest();

const quoted: RenderEstimateDto = {
  renderId: 12,
  status: "quoted",
  sample: { frames: 2, done: 2 },
  frames: 3,
  price: 2,
  estimate: {
    totalWu: 6.5,
    band: { low: 6, high: 7.25 },
    credits: { low: 12, mid: 13, high: 14.5 },
    etaSeconds: 95,
    framesMeasured: 2,
    updatedAt: "2026-11-24T10:05:00.000Z",
  },
  quote: { totalWu: 6.5, band: { low: 6, high: 7.25 }, quotedAt: "2026-11-24T10:05:00.000Z" },
  curve: [
    { frame: 1, wu: 2, low: 2, high: 2, sampled: true, done: true },
    { frame: 2, wu: 2.25, low: 1.75, high: 3, sampled: false, done: false },
    { frame: 3, wu: 2.25, low: 2.25, high: 2.25, sampled: true, done: true },
  ],
  expectedStart: { price: 2, wuAhead: 34, rendersAhead: 3, unmeasuredAhead: 1, workers: 2, othersWorkers: 1, startsInSeconds: 330 },
};

test("render estimate: a WU-per-frame table and one line with the total, its band, credits and ETA", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/12/estimate`, () => HttpResponse.json(quoted)));
  const human = await cactus(["render", "estimate", "12"]);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/│ frame │ WU\s+│ band\s+│\s+│/);
  expect(human.stdout).toMatch(/│ 2\s+│ 2\.25 │ 1\.75–3\.00 │ estimated\s+│/);
  expect(human.stdout).toMatch(/│ 3\s+│ 2\.25 │\s+│ sample, done │/);
  expect(human.stdout).toContain(
    "Render 12 quoted · 2/2 sample frames: 6.50 WU (6.00–7.25) · 13.00 credits (12.00–14.50) · ETA 1 min 35 s.\n" +
      "At 2.00 credits/WU: 34.0 WU ahead in 3 renders (1 not measured yet); it would begin in about 5 min 30 s on 2 workers online.\n" +
      "Confirm it with `cactus render confirm 12`.",
  );
});

test("render estimate --price tells the expected start at another price; a price that is none is a usage error", async () => {
  await loggedIn();
  let asked: string | null = null;
  server.use(
    http.get(`${API}/renders/12/estimate`, ({ request }) => {
      asked = new URL(request.url).searchParams.get("price");
      return HttpResponse.json({ ...quoted, expectedStart: { ...quoted.expectedStart!, price: 5, wuAhead: 0, rendersAhead: 0, unmeasuredAhead: 0, startsInSeconds: 0 } });
    }),
  );
  const human = await cactus(["render", "estimate", "12", "--price", "5"]);
  expect(asked).toBe("5");
  expect(human.stdout).toContain("At 5.00 credits/WU: nothing ahead; it would begin at once on 2 workers online.");
  const bad = await cactus(["render", "estimate", "12", "--price", "-1"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--price is credits per WU, 0 to 1000000 (got -1).");
});

test("render estimate --json is {status, sampled_frames, total_wu, band, credits, eta_seconds, curve}", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/12/estimate`, () => HttpResponse.json(quoted)));
  const json = await cactus(["render", "estimate", "12", "--json"]);
  expect(JSON.parse(json.stdout)).toEqual({
    status: "quoted",
    sampled_frames: 2,
    total_wu: 6.5,
    band: { low: 6, high: 7.25 },
    credits: { low: 12, mid: 13, high: 14.5 },
    eta_seconds: 95,
    curve: [
      { frame: 1, wu: 2, sampled: true, done: true },
      { frame: 2, wu: 2.25, sampled: false, done: false },
      { frame: 3, wu: 2.25, sampled: true, done: true },
    ],
    expected_start: { price: 2, wu_ahead: 34, renders_ahead: 3, unmeasured_ahead: 1, workers: 2, others_workers: 1, starts_in_seconds: 330 },
  });
});

test("render estimate before any frame is in says how far sampling is", async () => {
  await loggedIn();
  const sampling = { ...quoted, status: "estimating" as const, sample: { frames: 10, done: 0 }, estimate: null, quote: null, curve: [] };
  server.use(http.get(`${API}/renders/12/estimate`, () => HttpResponse.json(sampling)));
  const human = await cactus(["render", "estimate", "12"]);
  expect(human.stdout).toBe(
    "Render 12 estimating · 0/10 sample frames in; the estimate comes with the first of them.\n" +
      "At 2.00 credits/WU: 34.0 WU ahead in 3 renders (1 not measured yet); it would begin in about 5 min 30 s on 2 workers online.\n",
  );
  expect(JSON.parse((await cactus(["render", "estimate", "12", "--json"])).stdout)).toMatchObject({ total_wu: null, band: null, curve: [] });
});

test("render confirm accepts the quote; a render that is not quoted is refused with why", async () => {
  await loggedIn();
  server.use(http.post(`${API}/renders/12/confirm`, () => HttpResponse.json(render({ status: "queued" }))));
  const confirmed = await cactus(["render", "confirm", "12"]);
  expect(confirmed).toMatchObject({ code: 0 });
  expect(confirmed.stderr).toContain("Confirmed render 12: it is queued");
  server.use(
    http.post(`${API}/renders/13/confirm`, () =>
      HttpResponse.json(apiError("conflict", "Render 13 is rendering, not quoted; only a quoted render waits for a confirmation."), {
        status: 409,
      }),
    ),
  );
  const refused = await cactus(["render", "confirm", "13"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("only a quoted render waits for a confirmation");
});

test("render request --estimate-only asks for the quote first and says what comes next", async () => {
  await loggedIn();
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/renders`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json(render({ status: "estimating", estimateOnly: true, sample: { frames: 10, done: 0 }, tasks: 10 }), { status: 201 });
    }),
  );
  const result = await cactus(["render", "request", "--archive", "7", "--frames", "1-48", "--estimate-only"]);
  expect(bodies).toEqual([{ archiveId: 7, format: "PNG", frames: "1-48", estimateOnly: true }]);
  expect(result.stderr).toContain(
    "Render 12 estimating: frames 1-24 of shot.blend. 10 sample frames across the timeline render first; then it waits for your " +
      "confirmation: see the quote with `cactus render estimate 12`, then `cactus render confirm 12`.",
  );
});

test("render estimate of a finished render: the total without a closed band, and what was quoted beside it", async () => {
  await loggedIn();
  const finished: RenderEstimateDto = {
    ...quoted,
    status: "done",
    estimate: { ...quoted.estimate!, totalWu: 6.9, band: { low: 6.9, high: 6.9 }, credits: { low: 13.8, mid: 13.8, high: 13.8 }, etaSeconds: 0, framesMeasured: 3 },
    curve: quoted.curve.map((point) => ({ ...point, low: point.wu, high: point.wu, done: true })),
  };
  server.use(http.get(`${API}/renders/12/estimate`, () => HttpResponse.json(finished)));
  const human = await cactus(["render", "estimate", "12"]);
  expect(human.code).toBe(0);
  // Not "6.90 WU (6.90–6.90) · 13.80 credits (13.80–13.80)".
  expect(human.stdout).toContain("Render 12 done · 2/2 sample frames: 6.90 WU · 13.80 credits · quoted 6.50 WU (6.00–7.25).\n");
});

test("render estimate of a render cancelled as it was quoted does not print the same total twice, nor an ETA", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/12/estimate`, () => HttpResponse.json({ ...quoted, status: "cancelled" })));
  const human = await cactus(["render", "estimate", "12"]);
  // Nor an ETA: it will not render on (the server's answer still had one, as a cancelled render's can: "no worker online").
  expect(human.stdout).toContain("Render 12 cancelled · 2/2 sample frames: 6.50 WU (6.00–7.25) · 13.00 credits (12.00–14.50).\n");
  expect(human.stdout).not.toContain("quoted");
});
