import { afterAll, beforeAll, expect, test } from "vitest";
import { renderEstimateSchema, workerListSchema, type RenderEstimateDto } from "../../contract";
import { planSamples } from "../../domain/sampling";
import { startFarm, type Farm, type FarmAgent } from "../helpers/e2e-farm";
import { makeScene } from "../helpers/scenes";
import { grantCredits } from "../helpers/users";

// Work units and the quote on the real stack: the server, `cactus-agent` processes with
// real Blender. A render asked for with --estimate-only renders its sample frames, is
// quoted and waits; confirmed, it renders the rest, a worker that joins mid-render is
// calibrated from the frames next to its own, and each frame's WU is its minutes × the
// WUPM it was priced with.

let farm: Farm;
let agents: FarmAgent[];

beforeAll(async () => {
  farm = await startFarm();
  // Each starts with this machine's benchmark (measured once by the real agent: tests/helpers/e2e-farm.ts).
  agents = await Promise.all([farm.addAgent({ name: "alpha" }), farm.addAgent({ name: "bravo" })]);
  // After its hello, an agent sends the benchmark it kept before it asks for work.
  await Promise.all(agents.map((agent) => farm.waitForLog(agent, /Benchmark: /)));
}, 300_000);
afterAll(() => farm?.stop());

const estimateOf = async (id: number): Promise<RenderEstimateDto> => renderEstimateSchema.parse(await farm.json(`/renders/${id}/estimate`));

test("estimating → quoted → confirmed → queued → done, on two agents and one that joins", async () => {
  // Both agents sent their benchmark on start: the Workers list shows WUPM and when it was measured.
  const { workers } = workerListSchema.parse(await farm.json("/workers"));
  for (const worker of workers) expect(worker, farm.logs()).toMatchObject({ wupm: expect.any(Number), wupmMeasuredAt: expect.any(String) });

  // Confirming puts the quote's upper bound in escrow (decision 023).
  await grantCredits(farm.server, farm.userId, 1000);
  const archive = await farm.uploadScene(await makeScene({ frames: 36 }), "cube.blend");
  await farm.waitForFacts(archive.id);
  const requested = await farm.requestRender({ archiveId: archive.id, frames: "1-36", estimateOnly: true, price: 2 });
  const sample = planSamples({ start: 1, end: 36, step: 1 }, { workers: 2 })!;
  expect(requested).toMatchObject({ status: "estimating", estimateOnly: true, tasks: sample.length, sample: { frames: sample.length, done: 0 } });
  expect(sample).toEqual([1, 2, 12, 13, 24, 25, 35, 36]);

  // The sample frames render, and then it waits for its owner.
  const quoted = await farm.waitForRender(requested.id, (r) => r.status !== "estimating", 120_000);
  expect(quoted, farm.logs()).toMatchObject({ status: "quoted", frames: { done: sample.length }, sample: { done: sample.length } });
  const quote = await estimateOf(requested.id);
  expect(quote.quote).toMatchObject({ totalWu: quote.estimate!.totalWu });
  expect(quote.estimate!.band.low).toBeLessThan(quote.estimate!.totalWu);
  expect(quote.estimate!.band.high).toBeGreaterThan(quote.estimate!.totalWu);
  expect(quote.estimate!.credits.mid).toBeCloseTo(quote.estimate!.totalWu * 2, 6);
  expect(quote.estimate!.etaSeconds).toBeGreaterThan(0);
  expect(quote.curve).toHaveLength(36);
  expect(quote.curve.filter((point) => point.sampled).map((point) => point.frame)).toEqual(sample);
  expect(quote.curve.filter((point) => point.done).map((point) => point.frame)).toEqual(sample);
  // Nothing else renders while it is quoted.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect((await farm.render(requested.id)).frames.done).toBe(sample.length);
  const sampleResults = await farm.query<{ frame: number; worker_id: number }>(
    "SELECT frame, worker_id FROM results WHERE render_id = $id AND accepted ORDER BY frame",
    { id: requested.id },
  );
  expect(sampleResults.map((result) => result.frame)).toEqual(sample);

  // Confirmed: queued (the others' tasks made now), then a third agent joins.
  const confirmed = await farm.json<{ status: string; tasks: number }>(`/renders/${requested.id}/confirm`, { method: "POST" });
  expect(confirmed).toMatchObject({ status: "queued", tasks: 36 });
  await farm.json(`/renders/${requested.id}/confirm`, { method: "POST" }, 409);
  const charlie = await farm.addAgent({ name: "charlie" });
  const done = await farm.waitForRender(requested.id, (r) => r.status === "done" || r.status === "failed", 180_000);
  expect(done, farm.logs()).toMatchObject({ status: "done", frames: { total: 36, done: 36 } });

  // Every frame once, the sample frames not again.
  const results = await farm.query<{ frame: number; worker_id: number; render_time_ms: number; wu: number; wupm: number }>(
    "SELECT frame, worker_id, render_time_ms, wu, wupm FROM results WHERE render_id = $id AND accepted ORDER BY frame",
    { id: requested.id },
  );
  expect(results.map((result) => result.frame)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
  const attempts = await farm.query<{ frame_start: number; attempts: number }>(
    "SELECT frame_start, attempts FROM tasks WHERE render_id = $id ORDER BY frame_start",
    { id: requested.id },
  );
  expect(attempts.map((task) => task.attempts)).toEqual(Array(36).fill(1));

  // WU = render minutes × the WUPM each was priced with: the worker's speed on this render.
  for (const result of results) expect(result.wu, `frame ${result.frame}`).toBeCloseTo((result.render_time_ms / 60_000) * result.wupm, 4);
  const speeds = await farm.query<{ worker_id: number; wupm: number; calibrated: boolean; close_frames: number }>(
    "SELECT worker_id, wupm, calibrated, close_frames FROM render_speeds WHERE render_id = $id",
    { id: requested.id },
  );
  const byCharlie = results.filter((result) => result.worker_id === charlie.workerId);
  // Charlie joined with 28 frames to go: it rendered frames next to the others', and is
  // calibrated from them, not by its benchmark alone.
  expect(byCharlie.length, farm.logs()).toBeGreaterThan(0);
  expect(speeds.find((speed) => speed.worker_id === charlie.workerId), farm.logs()).toMatchObject({ calibrated: true });
  expect(speeds.filter((speed) => agents.some((agent) => agent.workerId === speed.worker_id)).every((speed) => speed.calibrated)).toBe(true);

  // Done: the estimate is what the frames cost.
  const final = await estimateOf(requested.id);
  const actual = results.reduce((sum, result) => sum + result.wu, 0);
  expect(final.estimate!.totalWu).toBeCloseTo(actual, 3);
  expect(final.estimate!.etaSeconds).toBe(0);
  expect(final.curve.every((point) => point.done)).toBe(true);
}, 600_000);
