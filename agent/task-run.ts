import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ClaimedTask, OutputFormat } from "../contract";
import type { ArchiveCache, CachedArchive } from "./archive-cache";
import { type BlenderEvent, type BlenderRunner, BlenderProgress, framePaths, renderFrames } from "./blender";
import { type AgentClient, FrameRejected, ServerUnreachable, StaleLease, WorkerUnauthorized } from "./client";
import { Heartbeat, type StopReason } from "./heartbeat";
import { inspectScene } from "./scene-facts";

// One claimed task from its archive to its outcome (complete, fail, inspection), with its
// heartbeats; or dropped when the server says stop or the lease is gone, or released
// back to the queue when the agent stops.

export type LoopEvent =
  | { kind: "claimed"; task: ClaimedTask }
  | { kind: "idle"; waitMs: number }
  | { kind: "blenderStarted"; taskId: number }
  | { kind: "blenderExited"; taskId: number; ok: boolean }
  | { kind: "uploaded"; taskId: number; frame: number }
  | { kind: "done"; taskId: number }
  | { kind: "failed"; taskId: number; error: string }
  | { kind: "dropped"; taskId: number; why: StopReason; reason: string }
  | { kind: "sleeping"; until: Date | null }
  | { kind: "paused"; reason: string };

export interface TaskRunOptions {
  client: AgentClient;
  cache: ArchiveCache;
  blender: string;
  threads: number;
  runner?: BlenderRunner;
  killGraceMs?: number;
  workDir?: string;
  heartbeatMs: number;
  progressBeatMinMs?: number;
  isStopping: () => boolean;
  /** Blender printed that it saved the task's last frame; it still has to quit. */
  onLastFrameSaved?: () => void;
  /**
   * Blender wrote this task's frames: the loop may claim and render the next task while
   * they upload. The uploads start once the promise resolves (the previous task's are done).
   */
  onRendered?: () => Promise<void>;
  log: (message: string) => void;
  observe: (event: LoopEvent) => void;
}

export const LOG_TAIL_BYTES = 64 * 1024;
const MAX_ERROR_CHARS = 4000;

export class TaskRun {
  private readonly abort = new AbortController();
  private why: StopReason | null = null;
  private reason = "";
  /** The server has the task's outcome (complete, fail or inspection): nothing to drop any more. */
  private settled = false;

  constructor(
    readonly task: ClaimedTask,
    private readonly options: TaskRunOptions,
  ) {}

  /** Ends the work early: Blender (or the download, or the uploads) stop at once. */
  stop(why: StopReason, reason: string): void {
    if (this.why || this.settled) return;
    this.why = why;
    this.reason = reason;
    this.abort.abort();
  }

  async run(): Promise<void> {
    const { task, options } = this;
    options.observe({ kind: "claimed", task });
    let progress = () => ({ progress: 0, frame: null as number | null });
    const heartbeat = new Heartbeat(options.client, task, {
      intervalMs: options.heartbeatMs,
      minGapMs: options.progressBeatMinMs ?? 1000,
      progress: () => progress(),
      onStop: (why, reason) => this.stop(why, reason),
      log: options.log,
    });
    heartbeat.start();
    let archive: CachedArchive | undefined;
    let outputDir: string | undefined;
    try {
      archive = await options.cache.acquire(task.archive, this.abort.signal);
      if (task.kind === "inspect") {
        await this.inspect(archive);
      } else {
        const frames = framesOf(task);
        outputDir = await fs.mkdtemp(path.join(options.workDir ?? os.tmpdir(), `cactus-task-${task.id}-`));
        const tracker = new BlenderProgress(frames);
        progress = () => ({ progress: tracker.fractionAt(), frame: tracker.frame });
        let saved = 0;
        await this.render(frames, archive, outputDir, (event) => {
          tracker.update(event);
          if (event.kind === "saved" || (event.kind === "status" && event.samplesDone !== null)) heartbeat.nudge();
          if (event.kind === "saved" && ++saved === frames.frameEnd - frames.frameStart + 1) options.onLastFrameSaved?.();
        });
      }
    } catch (error) {
      await this.afterError(error);
    } finally {
      heartbeat.stop();
      archive?.release();
      // The task's folder goes with it (its frames are uploaded by now, or never will be). The next
      // task was claimed as Blender saved the last frame, so this costs it nothing.
      if (outputDir) await fs.rm(outputDir, { recursive: true, force: true }).catch(() => undefined);
    }
    if (this.why) await this.dropped(this.why);
  }

  private async render(frames: TaskFrames, archive: CachedArchive, outputDir: string, onEvent: (event: BlenderEvent) => void) {
    const { task } = this;
    const { client, blender, threads, runner, killGraceMs } = this.options;
    const job = { blendFile: archive.blendFile, archiveDir: archive.dir, outputDir, threads, options: task.options, ...frames };
    const signal = this.abort.signal;
    const startedAt = Date.now();
    this.options.observe({ kind: "blenderStarted", taskId: task.id });
    const result = await renderFrames({ job, blender, runner, signal, killGraceMs, onEvent });
    this.options.observe({ kind: "blenderExited", taskId: task.id, ok: result.ok });
    if (!result.ok) this.stoppedWithTheAgent();
    if (this.why) return;
    if (!result.ok) return this.fail(result.errors, result.logTail);
    const wallMs = Date.now() - startedAt;
    await this.options.onRendered?.();
    if (this.why) return;
    const files = framePaths(job);
    try {
      for (const [index, file] of files.entries()) {
        const frame = frames.frameStart + index;
        const renderTimeMs = result.renderTimesMs[file] ?? wallMs / files.length;
        await client.uploadFrame(task.id, frame, { file, format: frames.format, leaseToken: task.leaseToken, renderTimeMs }, { signal });
        this.options.observe({ kind: "uploaded", taskId: task.id, frame });
      }
    } catch (error) {
      if (error instanceof FrameRejected) return this.refused(error);
      throw error;
    }
    await client.complete(task.id, { leaseToken: task.leaseToken }, { signal });
    this.settled = true;
    this.options.log(`Task ${task.id}: frames ${frames.frameStart}-${frames.frameEnd} done in ${(wallMs / 1000).toFixed(1)} s.`);
    this.options.observe({ kind: "done", taskId: task.id });
  }

  private async inspect(archive: CachedArchive) {
    const { task } = this;
    const signal = this.abort.signal;
    const { blender, runner } = this.options;
    const outcome = await inspectScene({ blender, blendFile: archive.blendFile, archiveDir: archive.dir, runner, signal });
    if (!outcome.ok) this.stoppedWithTheAgent();
    if (this.why) return;
    if (!outcome.ok) return this.fail([outcome.error], outcome.logTail);
    await this.options.client.inspection(task.id, { leaseToken: task.leaseToken, facts: outcome.facts }, { signal });
    this.settled = true;
    this.options.log(`Task ${task.id}: inspected archive ${task.archive.hash.slice(0, 12)}.`);
    this.options.observe({ kind: "done", taskId: task.id });
  }

  /** Ctrl-C reaches Blender too (same process group): a Blender that died as the agent stops is the stop's, not the task's. */
  private stoppedWithTheAgent() {
    if (this.options.isStopping()) this.stop("shutdown", "Blender stopped with the agent");
  }

  /** Reports a failure with Blender's `Error:` lines and the end of its log. */
  private async fail(errors: string[], logTail: string[]) {
    const { task } = this;
    const error = (errors.join("\n") || "Blender failed without saying why.").slice(0, MAX_ERROR_CHARS);
    this.options.log(`Task ${task.id} failed: ${error}`);
    await this.options.client.fail(task.id, { leaseToken: task.leaseToken, error, logTail: logTail.join("\n").slice(-LOG_TAIL_BYTES) });
    this.settled = true;
    this.options.observe({ kind: "failed", taskId: task.id, error });
  }

  /**
   * A 422 on a frame: the server has already counted it as this worker's failure and put
   * the task back in the queue, so the lease is gone and a fail call would only get a 409.
   */
  private refused(error: FrameRejected) {
    const { task } = this;
    this.settled = true;
    this.options.log(`Task ${task.id} failed: ${error.message}`);
    this.options.observe({ kind: "failed", taskId: task.id, error: error.message });
  }

  private async afterError(error: unknown) {
    const { task } = this;
    if (this.why) return;
    if (error instanceof WorkerUnauthorized) throw error;
    if (error instanceof StaleLease) return this.stop("stale", error.message);
    if (error instanceof ServerUnreachable) {
      this.options.log(`Task ${task.id}: ${error.message}. Its lease will expire and the server will hand it out again.`);
      return;
    }
    // Anything else (a corrupt download, a zip that would escape) is this task's failure.
    await this.fail([(error as Error).message], []).catch((failError: Error) => {
      this.options.log(`Task ${task.id}: could not report the failure (${failError.message}).`);
    });
  }

  private async dropped(why: StopReason) {
    const { task, reason } = this;
    this.options.log(`Task ${task.id} dropped (${why}): ${reason}`);
    if (why === "shutdown" || why === "paused") await releaseTask(this.options.client, task, this.options.log);
    this.options.observe({ kind: "dropped", taskId: task.id, why, reason });
  }
}

/**
 * The agent's own folder of task folders (under its cache dir: one agent per cache).
 * Each task's frames live in one until the task ends; what an agent killed mid-task
 * left behind goes when the next one starts. Answers how many were left.
 */
export async function openWorkDir(dir: string): Promise<number> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const left = await fs.readdir(dir);
  await Promise.all(left.map((name) => fs.rm(path.join(dir, name), { recursive: true, force: true })));
  return left.length;
}

/** Back to the queue, no failure counted; a lease already gone needs nothing. */
export async function releaseTask(client: AgentClient, task: ClaimedTask, log: (message: string) => void): Promise<void> {
  try {
    // Bounded: a server that is down must not hold up a systemd stop.
    await client.release(task.id, task.leaseToken, { signal: AbortSignal.timeout(15_000) });
    log(`Task ${task.id} released back to the queue.`);
  } catch (error) {
    if (error instanceof WorkerUnauthorized) throw error;
    log(`Task ${task.id} was not released (${(error as Error).message}); its lease will expire.`);
  }
}

interface TaskFrames {
  frameStart: number;
  frameEnd: number;
  format: OutputFormat;
}

/** A render task's frames and format: the contract leaves them null only for inspect tasks. */
function framesOf({ frameStart, frameEnd, format }: ClaimedTask): TaskFrames {
  if (frameStart === null || frameEnd === null || format === null) {
    throw new Error("The server sent a render task without its frames or format; update the agent or the server so they match.");
  }
  return { frameStart, frameEnd, format };
}
