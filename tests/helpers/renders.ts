import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Sequelize } from "sequelize";
import { expect } from "vitest";
import { renderSchema, type RenderDto } from "../../contract";
import { claimTask, completeTask, recordResult, type Lease } from "../../db/sql/queue";
import type { ArchiveApi } from "./archive-api";
import { encodePng, greyRows } from "./png";
import type { TestServer } from "./server";

// Renders for the API tests: requested over HTTP, and "rendered" by a worker that leases
// tasks and delivers frames through the queue's own statements, with real PNGs in the
// server's blob store.

/** A valid greyscale PNG of this size whose pixels carry `shade` (so frames differ). */
export function pngBytes(width: number, height: number, shade: number): Buffer {
  return encodePng(width, height, 0, greyRows(width, height, shade));
}

export const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

export async function renderOf(response: Response, status = 200): Promise<RenderDto> {
  const body: unknown = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return renderSchema.parse(body);
}

/** Puts bytes in the server's blob store under a content address; returns the key. */
async function storeBlob(server: TestServer, folder: string, bytes: Buffer): Promise<string> {
  const hash = sha256(bytes);
  const key = `${folder}/${hash.slice(0, 2)}/${hash}`;
  const file = path.join(server.dataDir, "blobs", key);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, bytes);
  return key;
}

export interface LeasedTask {
  lease: Lease;
  frames: number[];
}

/** The worker leases its next task, as an agent's claim would. */
export async function lease(sequelize: Sequelize, workerId: number): Promise<LeasedTask> {
  const task = await claimTask(sequelize, { workerId });
  if (!task || task.frameStart === null || task.frameEnd === null) throw new Error(`worker ${workerId} got no render task`);
  const frames = [];
  for (let frame = task.frameStart; frame <= task.frameEnd; frame++) frames.push(frame);
  return { lease: { taskId: task.id, workerId, leaseToken: task.leaseToken }, frames };
}

/** Delivers one frame's PNG (and a PNG thumbnail) under the lease; returns the image's bytes. */
export async function deliverFrame(server: TestServer, sequelize: Sequelize, lease: Lease, frame: number): Promise<Buffer> {
  const image = pngBytes(64, 48, frame);
  const answer = await recordResult(sequelize, lease, {
    frame,
    imageKey: await storeBlob(server, "results", image),
    imageBytes: image.length,
    thumbnailKey: await storeBlob(server, "thumbnails", pngBytes(16, 12, frame)),
    width: 64,
    height: 48,
    renderTimeMs: 1000 + frame,
    blenderVersion: "3.4.1",
  });
  expect(answer).toMatchObject({ ok: true, duplicate: false });
  return image;
}

/** The worker renders its next task whole: lease, every frame, complete. Returns the images by frame. */
export async function renderNextTask(server: TestServer, sequelize: Sequelize, workerId: number): Promise<Map<number, Buffer>> {
  const { lease: held, frames } = await lease(sequelize, workerId);
  const images = new Map<number, Buffer>();
  for (const frame of frames) images.set(frame, await deliverFrame(server, sequelize, held, frame));
  expect(await completeTask(sequelize, held)).toMatchObject({ ok: true });
  return images;
}

/** A new worker of the API's user, by the API: its id. */
export async function createWorker(api: ArchiveApi, name: string): Promise<number> {
  const response = await api.call("/workers", { body: { name } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: number }).id;
}

/** Enables or disables one of the API's user's workers, by the API. */
export async function setWorkerEnabled(api: ArchiveApi, workerId: number, enabled: boolean): Promise<void> {
  const response = await api.call(`/workers/${workerId}`, { method: "PATCH", body: { enabled } });
  expect(response.status, await response.text()).toBe(200);
}

/**
 * A worker's agent speaking the real agent protocol over HTTP, rendering nothing: it
 * uploads a PNG per frame (64×48, the frame in its pixels) and completes the task.
 */
export class TestAgent {
  constructor(
    readonly server: TestServer,
    readonly token: string,
  ) {}

  private call(method: string, urlPath: string, body?: unknown): Promise<Response> {
    return fetch(`${this.server.url}/api/v1${urlPath}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async hello(): Promise<void> {
    const response = await this.call("POST", "/agent/hello", {
      blenderVersion: "3.4.1",
      capabilities: { denoiser: false, threads: 4 },
    });
    expect(response.status, await response.text()).toBe(200);
  }

  /** Claims a render task: its id, lease token and frames. */
  async claim(): Promise<{ id: number; leaseToken: string; frames: number[] }> {
    const response = await this.call("POST", "/agent/claim", {});
    const body = (await response.json()) as { task: { id: number; leaseToken: string; frameStart: number; frameEnd: number } };
    expect({ status: response.status, body }).toMatchObject({ status: 200, body: { task: { kind: "render" } } });
    const { id, leaseToken, frameStart, frameEnd } = body.task;
    return { id, leaseToken, frames: Array.from({ length: frameEnd - frameStart + 1 }, (_, index) => frameStart + index) };
  }

  async upload(task: { id: number; leaseToken: string }, frame: number): Promise<Buffer> {
    const image = pngBytes(64, 48, frame * 10);
    const query = new URLSearchParams({ leaseToken: task.leaseToken, renderTimeMs: String(1000 + frame) });
    const response = await fetch(`${this.server.url}/api/v1/agent/tasks/${task.id}/frames/${frame}?${query}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "image/png" },
      body: new Uint8Array(image),
    });
    expect(response.status, await response.text()).toBe(201);
    return image;
  }

  async complete(task: { id: number; leaseToken: string }): Promise<void> {
    const response = await this.call("POST", `/agent/tasks/${task.id}/complete`, { leaseToken: task.leaseToken });
    expect(response.status, await response.text()).toBe(200);
  }

  /** Claims the next task and delivers all its frames: the images by frame. */
  async renderNext(): Promise<Map<number, Buffer>> {
    const task = await this.claim();
    const images = new Map<number, Buffer>();
    for (const frame of task.frames) images.set(frame, await this.upload(task, frame));
    await this.complete(task);
    return images;
  }
}

/** A new worker of the API's user and its agent, which has said hello. */
export async function createAgent(api: ArchiveApi, name: string): Promise<{ workerId: number; agent: TestAgent }> {
  const response = await api.call("/workers", { body: { name } });
  const body = (await response.json()) as { id: number; token: string };
  expect({ status: response.status, body }).toMatchObject({ status: 201 });
  const agent = new TestAgent(api.server, body.token);
  await agent.hello();
  return { workerId: body.id, agent };
}
