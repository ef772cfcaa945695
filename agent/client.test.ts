import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { AgentClient, ServerUnreachable, StaleLease, WorkerDisabled, WorkerUnauthorized } from "./client";
import { pngBytes } from "./testing/fake-blender";
import { type FakeFarm, WORKER_TOKEN, renderTask, startFakeFarm } from "./testing/fake-farm";

let farm: FakeFarm;
afterEach(async () => {
  await farm?.close();
});

async function client(options: Partial<ConstructorParameters<typeof AgentClient>[0]> = {}) {
  farm = await startFakeFarm();
  return new AgentClient({ server: farm.url, token: WORKER_TOKEN, retry: { initialMs: 10, maxMs: 40, giveUpAfterMs: 2000 }, ...options });
}

const lease = { leaseToken: randomUUID() };
const problem = (status: number, code: string, message: string) => ({ status, json: { error: { code, message } } });

describe("agent client", () => {
  test("a claim answers the task, or null on 204", async () => {
    const agent = await client();
    const task = renderTask(Buffer.from("scene"));
    farm.queue.push(task);
    expect(await agent.claim()).toEqual(task);
    expect(await agent.claim()).toBeNull();
    expect(farm.heard.map((request) => request.headers.authorization)).toEqual([`Bearer ${WORKER_TOKEN}`, `Bearer ${WORKER_TOKEN}`]);
  });

  test("409 is a StaleLease, never retried", async () => {
    const agent = await client();
    farm.intercept = () => problem(409, "conflict", "The lease is stale.");
    await expect(agent.heartbeat(3, { ...lease, progress: 0.5 })).rejects.toThrow(StaleLease);
    await expect(agent.complete(3, lease)).rejects.toThrow(/The complete of task 3 was refused: The lease is stale\./);
    expect(farm.heard).toHaveLength(2);
  });

  test("401 and 403 say what to do", async () => {
    const agent = await client({ token: "ccw_nope" });
    await expect(agent.claim()).rejects.toThrow(WorkerUnauthorized);
    await expect(agent.claim()).rejects.toThrow(/cactus worker create/);
    // The server's answer already says what to do: said once, not twice.
    const told = await agent.claim().then(
      () => "",
      (error: Error) => error.message,
    );
    expect(told.match(/cactus worker create/g)).toHaveLength(1);
    // A proxy in front of the farm answering with an empty body says nothing useful: the agent adds the advice.
    farm.intercept = () => ({ status: 401 });
    await expect(agent.claim()).rejects.toThrow(/HTTP 401 — the worker token is not valid; create one with `cactus worker create`/);
    farm.intercept = () => problem(403, "forbidden", "This worker is disabled.");
    await expect(agent.claim()).rejects.toThrow(WorkerDisabled);
    await expect(agent.claim()).rejects.toThrow(/This worker is disabled\. — enable the worker with `cactus worker enable`/);
  });

  test("5xx and cut connections are retried with doubling, jittered, capped waits", async () => {
    const waits: number[] = [];
    const random = [0, 1, 0, 1, 0.5];
    const agent = await client({ random: () => random.shift() ?? 0, onRetry: (_what, _error, waitMs) => waits.push(waitMs) });
    let calls = 0;
    farm.intercept = () => {
      calls += 1;
      if (calls === 2) return "cut";
      return calls <= 5 ? problem(503, "internal", "Starting up.") : undefined;
    };
    const task = renderTask(Buffer.from("scene"));
    farm.queue.push(task);
    expect(await agent.claim()).toEqual(task);
    expect(calls).toBe(6);
    // 10 → [5,10], 20 → [10,20], 40 → [20,40], capped at 40
    expect(waits).toEqual([5, 20, 20, 40, 30]);
  });

  test("an answer cut off mid-body (a replica killed as it answered) is asked again, not the agent's end", async () => {
    const retried: string[] = [];
    const agent = await client({ onRetry: (_what, error) => retried.push(error.message) });
    let calls = 0;
    farm.intercept = () => ((calls += 1) === 1 ? "cut mid-answer" : undefined);
    expect(await agent.heartbeat(3, { ...lease, progress: 0.5 })).toMatchObject({ keepRunning: true });
    expect(calls).toBe(2);
    expect(retried).toEqual([expect.stringMatching(/^heartbeat of task 3: the answer from http:\/\/127\.0\.0\.1:\d+ was cut off \(\S+\)$/)]);
    const task = renderTask(Buffer.from("scene"));
    farm.queue.push(task);
    farm.intercept = () => ((calls += 1) === 3 ? "cut mid-answer" : undefined);
    expect(await agent.claim()).toEqual(task);
  });

  test("a server that stays away ends in ServerUnreachable once the retries run out", async () => {
    // Room for several tries even when a loaded machine answers the first one slowly.
    const agent = await client({ retry: { initialMs: 10, maxMs: 20, giveUpAfterMs: 1500 } });
    farm.intercept = () => problem(502, "internal", "Bad gateway.");
    await expect(agent.hello({ blenderVersion: "3.4.1", capabilities: { denoiser: false, threads: 2 } })).rejects.toThrow(ServerUnreachable);
    expect(farm.heard.length).toBeGreaterThan(2);
  });

  test("nothing listening is retried too, and an abort stops the retries at once", async () => {
    const agent = await client();
    await farm.close();
    const controller = new AbortController();
    const started = Date.now();
    const claim = agent.heartbeat(1, { ...lease, progress: 0 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 60);
    await expect(claim).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a frame upload streams the file with its length and image type", async () => {
    const agent = await client();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-upload-"));
    try {
      const file = path.join(dir, "frame_00007.png");
      const png = pngBytes(64, 48);
      await fs.writeFile(file, png);
      let cut = true;
      farm.intercept = () => (cut ? ((cut = false), "cut") : undefined);
      const result = await agent.uploadFrame(5, 7, { file, format: "PNG", leaseToken: lease.leaseToken, renderTimeMs: 1234.4 });
      expect(result).toMatchObject({ frame: 7, accepted: true, width: 64, height: 48 });
      const [, upload] = farm.heard;
      expect(upload.path).toBe(`/api/v1/agent/tasks/5/frames/7?leaseToken=${lease.leaseToken}&renderTimeMs=1234`);
      expect(upload.headers["content-type"]).toBe("image/png");
      expect(upload.headers["content-length"]).toBe(String(png.length));
      expect(upload.bytes).toEqual(png);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("a 422 on a frame is a FrameRejected", async () => {
    const agent = await client();
    farm.intercept = () => problem(422, "unprocessable", "Not a PNG.");
    const file = path.join(os.tmpdir(), `cactus-empty-${randomUUID()}.png`);
    await fs.writeFile(file, "");
    try {
      await expect(agent.uploadFrame(5, 7, { file, format: "PNG", leaseToken: lease.leaseToken, renderTimeMs: 1 })).rejects.toMatchObject({
        name: "FrameRejected",
        status: 422,
      });
    } finally {
      await fs.rm(file);
    }
  });
});
