import fs from "node:fs/promises";
import type { z } from "zod";
import type { frameResultSchema } from "../../contract";
import { Result, type Worker } from "../../db/models";
import { FAILURES_TO_FAIL_RENDER, type TaskFailedBecause, WORKERS_TO_FAIL_TASK } from "../../domain/scheduler";
import { findLeasedTask, recordResult, rejectResult, type Lease, type LeasedTask } from "../../db/sql/queue";
import { noteRenderActivity, noteWorkerFailure } from "../lib/render-activity.server";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { checkFrame, makeThumbnail, receiveFrame, storeFrame } from "../lib/results.server";
import { staleLease } from "./agent.server";
import { refreshAfterFrame } from "./render-estimate.server";

// A frame an agent uploads under its lease: accepted once per frame of a render, or
// refused (a failure of that worker for that task, with the reason).

export type FrameResultDto = z.infer<typeof frameResultSchema>;

export interface FrameUpload {
  lease: Lease;
  frame: number;
  renderTimeMs: number;
}

/**
 * Takes the image of one frame from the request body. The lease and the frame are checked
 * before a byte is read; then the image (format, size, whole decode) and, when it passes,
 * it is stored with its thumbnail and recorded. A frame already accepted is answered with
 * that first result (`duplicate`, unchecked) and the new bytes are dropped: an agent that
 * retries after a lost answer must not be told it failed, nor replace what was accepted.
 */
export async function receiveFrameUpload(worker: Worker, upload: FrameUpload, request: Request): Promise<FrameResultDto> {
  const { lease, frame } = upload;
  const task = await findLeasedTask(db(), lease);
  if (!task) throw staleLease(lease.taskId);
  if (task.kind !== "render" || task.renderId === null || task.outputFormat === null) {
    throw new Problem("bad_request", `Task ${lease.taskId} is an inspect task: it takes scene facts (POST …/inspection), not frames.`);
  }
  if (!isFrameOfTask(task, frame)) {
    throw new Problem(
      "bad_request",
      `Frame ${frame} is not one of task ${lease.taskId}'s frames (${describeFrames(task)}); upload only the frames the task asked for.`,
    );
  }

  const received = await receiveFrame(request);
  let thumbnail: string | null = null;
  try {
    const earlier = await acceptedResult(task.renderId, frame);
    if (earlier) return toFrameResultDto(earlier, true);
    const check = checkFrame(received, { format: task.outputFormat, expected: task.expected });
    if (!check.ok) return await refuse(lease, frame, check.reason);
    const made = await makeThumbnail(received.file, check.image.format);
    if (!made.ok) return await refuse(lease, frame, made.reason);
    thumbnail = made.file;

    const keys = await storeFrame(received, thumbnail);
    const { width, height } = check.image;
    const answer = await recordResult(db(), lease, {
      frame,
      ...keys,
      imageBytes: received.size,
      width,
      height,
      renderTimeMs: upload.renderTimeMs,
      blenderVersion: worker.blenderVersion,
    });
    // What was stored for a lost lease or a frame accepted meanwhile stays until the daily
    // sweep (app/lib/blob-sweep.server.ts): removing it here could race with another
    // upload of the same bytes, which shares the blob.
    if (!answer.ok) throw staleLease(lease.taskId);
    if (!answer.duplicate) {
      // The estimate first, so the live pages this wakes read the new one.
      await refreshAfterFrame(task.renderId);
      noteRenderActivity(task.renderId);
      return { frame, accepted: true, width, height, duplicate: false };
    }
    noteRenderActivity(task.renderId);
    return toFrameResultDto((await acceptedResult(task.renderId, frame))!, true);
  } finally {
    // Committed files were moved away; whatever is left was not kept.
    await fs.rm(received.file, { force: true });
    if (thumbnail) await fs.rm(thumbnail, { force: true });
  }
}

/** Why a refused frame failed its task, and with it the render. */
const TASK_FAILED: Record<TaskFailedBecause, string> = {
  "scene-error": "the scene has an error every worker would hit",
  workers: `${WORKERS_TO_FAIL_TASK} different workers failed it`,
  "no-other-worker": "no other worker may take it",
  "failure-limit": `its render failed ${FAILURES_TO_FAIL_RENDER} times in all`,
};

/** Records the refusal (a failure of this worker for the task) and answers 422 with why. */
async function refuse(lease: Lease, frame: number, reason: string): Promise<never> {
  const outcome = await rejectResult(db(), lease, { frame, reason });
  if (outcome === "stale") throw staleLease(lease.taskId);
  noteRenderActivity(outcome.renderId);
  noteWorkerFailure(lease.workerId);
  const next = outcome.taskStatus === "failed" ? `the task failed: ${TASK_FAILED[outcome.because!]}` : "the task went back to the queue (no need to report it failed)";
  const blocklisted = outcome.workerBlocklisted ? "; this worker gets no more tasks of this render" : "";
  throw new Problem(
    "unprocessable",
    `Frame ${frame} was refused: ${reason}. This counts as a failure of this worker for task ${lease.taskId}: ${next}${blocklisted}. ` +
      "Check this machine's Blender and the scene's output settings.",
  );
}

function isFrameOfTask(task: LeasedTask, frame: number): boolean {
  const { frameStart, frameEnd, frameStep } = task;
  if (frameStart === null || frameEnd === null) return false;
  return frame >= frameStart && frame <= frameEnd && (frame - frameStart) % frameStep === 0;
}

function describeFrames({ frameStart, frameEnd, frameStep }: LeasedTask): string {
  if (frameStart === frameEnd) return `frame ${frameStart}`;
  return frameStep === 1 ? `frames ${frameStart}-${frameEnd}` : `frames ${frameStart}-${frameEnd}, every ${frameStep}`;
}

function acceptedResult(renderId: number, frame: number): Promise<Result | null> {
  return Result.findOne({ where: { renderId, frame, accepted: true } });
}

function toFrameResultDto(result: Result, duplicate: boolean): FrameResultDto {
  return { frame: result.frame, accepted: true, width: result.width ?? 0, height: result.height ?? 0, duplicate };
}
