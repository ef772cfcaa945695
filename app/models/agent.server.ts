import type { Readable } from "node:stream";
import { Op, type Transaction } from "sequelize";
import type { z } from "zod";
import type {
  BenchmarkRequest,
  ClaimedTask,
  HeartbeatResponse,
  SceneFacts,
  completeResponseSchema,
  failResponseSchema,
  helloRequestSchema,
  helloResponseSchema,
} from "../../contract";
import { Archive, Render, Worker, WorkerBenchmark, type WorkerStatus } from "../../db/models";
import { UNFINISHED_RENDER_STATUSES } from "../../domain/render-lifecycle";
import { sortEngines } from "../../domain/engines";
import {
  claimTask,
  completeInspection,
  completeTask,
  failTask,
  findLeasedTask,
  heartbeatTask,
  nextArchives,
  releaseTask,
  workerHoldsArchive,
  type ClaimedTask as QueuedTask,
  type Lease,
  type NextArchive,
} from "../../db/sql/queue";
import type { ByteRange } from "../lib/byte-range";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { getRuntime } from "../lib/runtime.server";
import { hashSecret } from "../lib/secrets.server";
import { noteOwnerActivity, noteRenderActivity, noteWorkerFailure } from "../lib/render-activity.server";
import { archiveKey } from "../lib/storage.server";

// The agent's side of a worker (docs/design.md §5): hello, claims and what becomes of a leased
// task. The owner's side (create, rename, disable) is app/models/worker.server.ts; frame
// uploads are app/models/result.server.ts. Every function takes the worker requireWorker
// found, so an agent only ever acts on its own leases.

export function findWorkerByToken(token: string): Promise<Worker | null> {
  return Worker.findOne({ where: { tokenHash: hashSecret(token) } });
}

// An agent calls several times a second while frames are short; last_seen_at to within
// a few seconds is all the "offline after 2 minutes" rule needs, without a write per call.
const LAST_SEEN_RESOLUTION_MS = 5_000;

/** Notes that the worker's agent called (and its status, when it changed). */
export async function noteWorkerSeen(worker: Worker, status?: WorkerStatus): Promise<void> {
  const seenLongAgo = !worker.lastSeenAt || Date.now() - worker.lastSeenAt.getTime() > LAST_SEEN_RESOLUTION_MS;
  const changed = status !== undefined && status !== worker.status;
  if (!seenLongAgo && !changed) return;
  await worker.update({ lastSeenAt: new Date(), ...(changed ? { status } : {}) });
}

type Hello = z.infer<typeof helloRequestSchema>;

/** CACTUS_LEASE_SECONDS: the lease a claim gives and each heartbeat renews. */
const leaseSeconds = () => getRuntime().config.CACTUS_LEASE_SECONDS;

/** Records what the agent says about its machine; `sleeping` outside its schedule, `paused` while its owner works on it. */
export async function sayHello(worker: Worker, hello: Hello): Promise<z.infer<typeof helloResponseSchema>> {
  const { denoiser, threads, agentVersion, sandbox, engines } = hello.capabilities;
  await worker.update({
    blenderVersion: hello.blenderVersion,
    // The claim reads `denoiser` and `engines` from here (db/sql/common.ts workerCanRender).
    // The scheduler will read `sandbox` here too, to keep other people's renders off unsandboxed workers.
    capabilities: {
      denoiser,
      threads,
      ...(agentVersion === undefined ? {} : { agentVersion }),
      sandbox: sandbox ?? "off",
      ...(engines === undefined ? {} : { engines: sortEngines(engines) }),
    },
    threads,
    agentVersion: agentVersion ?? null,
    status: hello.status ?? "idle",
    pausedReason: hello.status === "paused" ? (hello.pausedReason ?? "its machine is busy") : null,
    lastSeenAt: new Date(),
  });
  // Its denoiser decides what the owner's renders say they wait for.
  noteOwnerActivity(worker.userId);
  return {
    worker: { id: worker.id, name: worker.name, enabled: worker.enabled },
    leaseSeconds: leaseSeconds(),
    benchmark: await lastBenchmark(worker.id),
  };
}

/** The worker's last benchmark and the machine it ran on: the agent measures again when its machine differs. */
async function lastBenchmark(workerId: number): Promise<z.infer<typeof helloResponseSchema>["benchmark"]> {
  const last = await WorkerBenchmark.findOne({ where: { workerId }, order: [["createdAt", "DESC"], ["id", "DESC"]] });
  if (!last) return null;
  const hardware = last.hardware as { cpuModel?: unknown; threads?: unknown };
  return {
    wupm: last.wupm,
    blenderVersion: last.blenderVersion,
    cpuModel: typeof hardware.cpuModel === "string" ? hardware.cpuModel : "",
    threads: typeof hardware.threads === "number" ? hardware.threads : 1,
    measuredAt: last.createdAt.toISOString(),
  };
}

/** Keeps a benchmark in the worker's history; its WUPM is the worker's from now on. */
export async function recordBenchmark(worker: Worker, benchmark: BenchmarkRequest): Promise<{ wupm: number; measuredAt: string }> {
  const row = await db().transaction(async (transaction) => {
    const created = await WorkerBenchmark.create(
      {
        workerId: worker.id,
        wupm: benchmark.wupm,
        blenderVersion: benchmark.blenderVersion,
        hardware: { cpuModel: benchmark.cpuModel, threads: benchmark.threads },
        seconds: benchmark.seconds,
        renders: benchmark.renders,
        spread: benchmark.spread,
        wallSeconds: benchmark.wallSeconds,
      },
      { transaction },
    );
    await worker.update({ wupm: benchmark.wupm }, { transaction });
    return created;
  });
  // The ETA of the owner's renders divides by their workers' WUPM.
  noteOwnerActivity(worker.userId);
  return { wupm: row.wupm, measuredAt: row.createdAt.toISOString() };
}

/**
 * Leases the next task this worker may take, or null when there is none for it. With
 * `waitSeconds` (capped by CACTUS_CLAIM_WAIT_SECONDS) an empty queue is not the answer
 * yet: the claim waits for a signal that work of this worker's owner appeared
 * (work-signals.server.ts) and tries again, until the time is up or the agent hangs up.
 */
export async function claimNextTask(
  worker: Worker,
  { waitSeconds = 0, signal }: { waitSeconds?: number; signal?: AbortSignal } = {},
): Promise<ClaimedTask | null> {
  const { config, workSignals } = getRuntime();
  const deadline = Date.now() + Math.min(waitSeconds, config.CACTUS_CLAIM_WAIT_SECONDS) * 1000;
  let task: QueuedTask | null = null;
  for (;;) {
    // In line before looking: work queued between this claim and the wait still wakes it.
    const wait = workSignals.subscribe(worker.userId);
    try {
      task = await claimTask(db(), { workerId: worker.id, leaseSeconds: leaseSeconds() });
      const left = deadline - Date.now();
      if (task || left <= 0 || signal?.aborted) break;
      const outcome = await wait.until(left, signal);
      if (outcome === "aborted" || outcome === "closing") break;
    } finally {
      wait.cancel();
    }
  }
  if (task && signal?.aborted) {
    // The agent hung up while this claim leased: nobody will render it, so back it goes.
    await releaseTask(db(), { taskId: task.id, workerId: worker.id, leaseToken: task.leaseToken });
    task = null;
  }
  await noteWorkerSeen(worker, task ? "rendering" : "idle");
  noteRenderActivity(task?.renderId);
  return task && toClaimedTaskDto(task);
}

function toClaimedTaskDto(task: QueuedTask): ClaimedTask {
  return {
    id: task.id,
    kind: task.kind,
    renderId: task.renderId,
    frameStart: task.frameStart,
    frameEnd: task.frameEnd,
    format: task.outputFormat,
    leaseToken: task.leaseToken,
    leaseExpiresAt: task.leaseExpiresAt.toISOString(),
    archive: { ...task.archive, size: Number(task.archive.size) },
    expected: task.expected,
    options: task.options,
  };
}

/** The lease of `taskId` as this worker states it. */
export function leaseOf(worker: Worker, taskId: number, leaseToken: string): Lease {
  return { taskId, workerId: worker.id, leaseToken };
}

/** A lease that expired, was taken back or never was this worker's: the agent drops the work. */
export function staleLease(taskId: number): Problem {
  return new Problem(
    "conflict",
    `Task ${taskId} is not leased to this worker any more (its lease expired or the task was taken back); drop its work and claim another.`,
  );
}

export async function heartbeat(lease: Lease, progress: number): Promise<HeartbeatResponse> {
  const answer = await heartbeatTask(db(), { ...lease, progress, leaseSeconds: leaseSeconds() });
  if (answer === "stale") throw staleLease(lease.taskId);
  return answer.keepRunning
    ? { keepRunning: true, leaseExpiresAt: answer.leaseExpiresAt.toISOString() }
    : { keepRunning: false, reason: answer.reason };
}

/**
 * Why a lease did not fit the call: another kind of task (a 400 that says which call it
 * takes), or else a stale lease. Asked only once a call was refused.
 */
async function refusedLease(lease: Lease, wanted: "render" | "inspect"): Promise<Problem> {
  const task = await findLeasedTask(db(), lease);
  if (!task || task.kind === wanted) return staleLease(lease.taskId);
  return task.kind === "inspect"
    ? new Problem("bad_request", `Task ${lease.taskId} is an inspect task: post its scene facts to …/inspection.`)
    : new Problem("bad_request", `Task ${lease.taskId} is a render task: upload its frames, then post …/complete.`);
}

export async function completeRenderTask(lease: Lease): Promise<z.infer<typeof completeResponseSchema>> {
  const answer = await completeTask(db(), lease);
  if (answer.ok) {
    noteRenderActivity(answer.renderId);
    return { renderStatus: answer.renderStatus };
  }
  if (answer.reason === "stale") throw await refusedLease(lease, "render");
  throw new Problem(
    "unprocessable",
    `Task ${lease.taskId} is not done: frame${answer.frames.length === 1 ? "" : "s"} ${answer.frames.join(", ")} ` +
      "have no accepted image yet. Upload them, then complete the task.",
  );
}

export async function failLeasedTask(
  lease: Lease,
  { error, logTail }: { error: string; logTail: string },
): Promise<z.infer<typeof failResponseSchema>> {
  const answer = await failTask(db(), { ...lease, error, logTail: logTail === "" ? null : logTail });
  if (answer === "stale") throw staleLease(lease.taskId);
  noteRenderActivity(answer.renderId);
  noteWorkerFailure(lease.workerId);
  const { renderId: _renderId, ...reply } = answer;
  return reply;
}

export async function releaseLeasedTask(lease: Lease): Promise<{ taskStatus: "queued" }> {
  const released = await releaseTask(db(), lease);
  if (released === "stale") throw staleLease(lease.taskId);
  noteRenderActivity(released.renderId);
  return { taskStatus: "queued" };
}

/** Finishes an inspect task: the scene facts go on the archive, in the lease's transaction. */
export async function recordInspection(lease: Lease, facts: SceneFacts): Promise<{ archiveId: number }> {
  let archiveId = 0;
  const answer = await completeInspection(db(), lease, async (id, transaction) => {
    archiveId = id;
    await saveSceneFacts(id, facts, transaction);
  });
  if (answer === "stale") throw await refusedLease(lease, "inspect");
  // A scene that denoises changes what its renders wait for.
  const archive = await Archive.findByPk(archiveId, { attributes: ["uploadedBy"] });
  if (archive) noteOwnerActivity(archive.uploadedBy);
  return { archiveId };
}

async function saveSceneFacts(archiveId: number, facts: SceneFacts, transaction: Transaction): Promise<void> {
  await Archive.update(
    {
      frameStart: facts.frameStart,
      frameEnd: facts.frameEnd,
      fps: facts.fps,
      resolutionX: facts.resolutionX,
      resolutionY: facts.resolutionY,
      resolutionPercentage: facts.resolutionPercentage,
      engine: facts.engine,
      samples: facts.samples,
      denoising: facts.denoising,
      hasScripts: facts.hasScripts,
      // All of it, for what has no column: every scene, cameras, view layers, missing files.
      sceneFacts: facts,
    },
    { where: { id: archiveId }, transaction },
  );
  // A render requested before the facts were known (so with no options: they need the
  // facts) renders the file's own scene: it takes the denoiser and engine rules and the
  // frame size check now.
  await Render.update(
    {
      needsDenoiser: facts.denoising,
      engine: facts.engine,
      outputWidth: facts.outputWidth > 0 ? facts.outputWidth : null,
      outputHeight: facts.outputHeight > 0 ? facts.outputHeight : null,
      updatedAt: new Date(),
    },
    { where: { archiveId, status: { [Op.in]: UNFINISHED_RENDER_STATUSES }, scene: null, engine: null }, transaction },
  );
}

export interface ArchiveBytes {
  size: number;
  /** The bytes, or the range of them (inclusive) a Range header asked for. */
  read(range?: ByteRange): Readable;
}

/** How many archives ahead an agent may see, and fetch before it holds a task of them. */
const ARCHIVES_AHEAD = 2;

/** The archives of the work this worker is likely to be handed next (db/sql/claim.ts). */
export async function archivesAhead(worker: Worker): Promise<NextArchive[]> {
  await noteWorkerSeen(worker);
  return nextArchives(db(), { workerId: worker.id, limit: ARCHIVES_AHEAD });
}

/**
 * The bytes of an archive, for a worker that holds a lease on a task using it, or is
 * likely to get one next (archivesAhead); for any other worker it does not exist.
 */
export async function openArchiveForWorker(worker: Worker, hash: string): Promise<ArchiveBytes> {
  const missing = () =>
    new Problem(
      "not_found",
      `No archive ${hash} for this worker: it only downloads the archive of a task it holds or is likely to get next; claim one first.`,
    );
  const mayFetch =
    (await workerHoldsArchive(db(), worker.id, hash)) ||
    (await nextArchives(db(), { workerId: worker.id, limit: ARCHIVES_AHEAD })).some((archive) => archive.hash === hash);
  if (!mayFetch) throw missing();
  const { storage } = getRuntime();
  const key = archiveKey(hash);
  // Only a blob that is not there is "missing": a store that cannot answer now throws (a
  // 5xx the agent retries), as a 404 would make it fail the task and blame itself.
  const size = await storage.size(key);
  if (size === null) throw missing();
  return { size, read: (range) => storage.read(key, range) };
}
