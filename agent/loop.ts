import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ClaimedTask, OutputFormat } from "../contract";
import type { ArchiveCache, CachedArchive } from "./archive-cache";
import { type BlenderInfo, type BlenderRunner, BlenderProgress, detectBlender, framePaths, renderFrames } from "./blender";
import {
  type AgentClient,
  FrameRejected,
  ServerRefused,
  ServerUnreachable,
  StaleLease,
  WorkerDisabled,
  WorkerUnauthorized,
} from "./client";
import { Heartbeat, type StopReason } from "./heartbeat";
import type { AwakeSchedule } from "./schedule";
import { inspectScene } from "./scene-facts";
import { delay, doubled, jittered } from "./timing";

// The agent's loop (DESIGN §5, like Flamenco's state_awake.go): hello → claim → archive →
// Blender with heartbeats → upload → complete → claim again at once. Only an empty queue
// (204) makes it wait, with a jittered backoff; only a stop or --once ends it.

export type LoopEvent =
  | { kind: "claimed"; task: ClaimedTask }
  | { kind: "idle"; waitMs: number }
  | { kind: "blenderStarted"; taskId: number }
  | { kind: "uploaded"; taskId: number; frame: number }
  | { kind: "done"; taskId: number }
  | { kind: "failed"; taskId: number; error: string }
  | { kind: "dropped"; taskId: number; why: StopReason; reason: string }
  | { kind: "sleeping"; until: Date | null };

export interface LoopOptions {
  client: AgentClient;
  cache: ArchiveCache;
  blender: string;
  threads: number;
  agentVersion: string;
  /** What detectBlender found; detected at the start of run() when not given. */
  blenderInfo?: BlenderInfo;
  runner?: BlenderRunner;
  /** Stop (resolve run()) at the first claim that finds no task. */
  once?: boolean;
  schedule?: AwakeSchedule | null;
  /** Where each task gets its own output dir. */
  workDir?: string;
  heartbeatMs?: number;
  progressBeatMinMs?: number;
  /** Backoff when the queue is empty (and when the server is away). */
  idle?: { initialMs: number; maxMs: number };
  /** On stop, how long the current task may take to end by itself before it is released. */
  stopGraceMs?: number;
  killGraceMs?: number;
  random?: () => number;
  now?: () => Date;
  log?: (message: string) => void;
  observe?: (event: LoopEvent) => void;
}

export const LOG_TAIL_BYTES = 64 * 1024;
const MAX_ERROR_CHARS = 4000;

interface Current {
  task: ClaimedTask;
  abort: AbortController;
  why: StopReason | null;
  reason: string;
  /** The server has the task's outcome (complete, fail or inspection): nothing to drop any more. */
  settled: boolean;
}

export class AgentLoop {
  private readonly wake = new AbortController();
  private stopping = false;
  private current: Current | null = null;
  private graceTimer: NodeJS.Timeout | undefined;
  private finished: Promise<void> = Promise.resolve();
  private blenderInfo: BlenderInfo | undefined;
  private heartbeatMs: number;
  private readonly idle: { initialMs: number; maxMs: number };
  private readonly log: (message: string) => void;

  constructor(private readonly options: LoopOptions) {
    this.blenderInfo = options.blenderInfo;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.idle = options.idle ?? { initialMs: 1000, maxMs: 30_000 };
    this.log = options.log ?? (() => undefined);
  }

  run(): Promise<void> {
    this.finished = this.loop();
    return this.finished;
  }

  /**
   * Ends the loop: an idle agent at once; a task that ends within the grace period
   * finishes, else Blender is stopped and the lease released. Resolves when run() does.
   */
  stop(graceMs = this.options.stopGraceMs ?? 30_000): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.wake.abort();
      if (this.current) {
        this.log(`Stopping: task ${this.current.task.id} has ${Math.round(graceMs / 1000)} s to finish, else it goes back to the queue.`);
        this.graceTimer = setTimeout(() => this.stopCurrent("shutdown", "the agent is stopping"), graceMs);
      }
    }
    return this.finished.then(
      () => undefined,
      () => undefined,
    );
  }

  private async loop(): Promise<void> {
    const { client, schedule, once } = this.options;
    this.blenderInfo ??= await detectBlender(this.options.blender, { runner: this.options.runner });
    let greeted = false;
    let idleMs = this.idle.initialMs;
    try {
      while (!this.stopping) {
        if (schedule && !schedule.isAwake(this.now())) {
          await this.sleepUntilAwake(schedule);
          greeted = false;
          continue;
        }
        if (!greeted) {
          greeted = await this.patiently(() => this.hello("idle")).then((answer) => answer !== undefined);
          continue;
        }
        const task = await this.patiently(() => client.claim({ signal: this.wake.signal }));
        if (task === undefined) continue;
        if (task === null) {
          if (once) return;
          const waitMs = jittered(idleMs, this.options.random);
          this.observe({ kind: "idle", waitMs });
          await delay(waitMs, this.wake.signal);
          idleMs = doubled(idleMs, this.idle.maxMs);
          continue;
        }
        idleMs = this.idle.initialMs;
        if (this.stopping) {
          await this.release(task);
          break;
        }
        await this.runTask(task);
      }
    } finally {
      clearTimeout(this.graceTimer);
    }
  }

  private async hello(status: "idle" | "sleeping") {
    const info = this.blenderInfo!;
    const answer = await this.options.client.hello(
      {
        blenderVersion: info.version,
        capabilities: { denoiser: info.hasDenoiser, threads: this.options.threads, agentVersion: this.options.agentVersion },
        status,
      },
      { signal: this.wake.signal },
    );
    // Three heartbeats per lease at the least, so one lost heartbeat never costs the lease.
    this.heartbeatMs = Math.min(this.options.heartbeatMs ?? 5000, (answer.leaseSeconds * 1000) / 3);
    if (status === "idle") this.log(`Hello: worker "${answer.worker.name}" (${answer.worker.id}) is awake and asks for work.`);
    return answer;
  }

  /** A call at the top of the loop: trouble that waiting fixes is waited out (undefined). */
  private async patiently<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (this.stopping) return undefined;
      const waitable = error instanceof WorkerDisabled || error instanceof ServerUnreachable || error instanceof ServerRefused;
      if (error instanceof WorkerUnauthorized || !waitable || this.options.once) throw error;
      const waitMs = jittered(this.idle.maxMs, this.options.random);
      this.log(`${(error as Error).message} Trying again in ${Math.round(waitMs / 1000)} s.`);
      await delay(waitMs, this.wake.signal);
      return undefined;
    }
  }

  private async sleepUntilAwake(schedule: AwakeSchedule) {
    const until = schedule.nextAwake(this.now());
    this.observe({ kind: "sleeping", until });
    this.log(`Outside the schedule "${schedule.expression}": sleeping until ${until?.toISOString() ?? "it matches again"}.`);
    while (!this.stopping && !schedule.isAwake(this.now())) {
      // The server shows the worker as sleeping, not offline: a hello about once a minute.
      await this.hello("sleeping").catch((error: Error) => {
        if (error instanceof WorkerUnauthorized) throw error;
        this.log(`Could not tell the server the agent sleeps: ${error.message}`);
      });
      const next = schedule.nextAwake(this.now());
      const waitMs = next ? Math.min(60_000, Math.max(1000, next.getTime() - this.now().getTime())) : 60_000;
      await delay(waitMs, this.wake.signal);
    }
  }

  private async runTask(task: ClaimedTask): Promise<void> {
    const current: Current = { task, abort: new AbortController(), why: null, reason: "", settled: false };
    this.current = current;
    this.observe({ kind: "claimed", task });
    let progress = () => ({ progress: 0, frame: null as number | null });
    const heartbeat = new Heartbeat(this.options.client, task, {
      intervalMs: this.heartbeatMs,
      minGapMs: this.options.progressBeatMinMs ?? 1000,
      progress: () => progress(),
      onStop: (why, reason) => this.stopCurrent(why, reason),
      log: this.log,
    });
    heartbeat.start();
    let archive: CachedArchive | undefined;
    let outputDir: string | undefined;
    try {
      archive = await this.options.cache.acquire(task.archive, current.abort.signal);
      if (task.kind === "inspect") {
        await this.inspect(task, archive, current);
      } else {
        const frames = framesOf(task);
        outputDir = await fs.mkdtemp(path.join(this.options.workDir ?? os.tmpdir(), `cactus-task-${task.id}-`));
        const tracker = new BlenderProgress(frames);
        progress = () => ({ progress: tracker.fractionAt(), frame: tracker.frame });
        await this.render(task, frames, archive, outputDir, current, (event) => {
          tracker.update(event);
          if (event.kind === "saved" || (event.kind === "status" && event.samplesDone !== null)) heartbeat.nudge();
        });
      }
    } catch (error) {
      await this.afterError(current, error);
    } finally {
      heartbeat.stop();
      archive?.release();
      this.current = null;
      clearTimeout(this.graceTimer);
      // Not awaited: the next claim goes out now, the files go away meanwhile.
      if (outputDir) void fs.rm(outputDir, { recursive: true, force: true }).catch(() => undefined);
    }
    if (current.why) await this.dropped(current);
  }

  private async render(
    task: ClaimedTask,
    frames: TaskFrames,
    archive: CachedArchive,
    outputDir: string,
    current: Current,
    onEvent: Parameters<typeof renderFrames>[0]["onEvent"],
  ) {
    const { client, blender, threads, runner, killGraceMs } = this.options;
    const job = { blendFile: archive.blendFile, outputDir, threads, ...frames };
    const signal = current.abort.signal;
    const startedAt = Date.now();
    this.observe({ kind: "blenderStarted", taskId: task.id });
    const result = await renderFrames({ job, blender, runner, signal, killGraceMs, onEvent });
    if (current.why) return;
    if (!result.ok) return this.fail(current, result.errors, result.logTail);
    const files = framePaths(job);
    const wallMs = Date.now() - startedAt;
    try {
      for (const [index, file] of files.entries()) {
        const frame = frames.frameStart + index;
        const renderTimeMs = result.renderTimesMs[file] ?? wallMs / files.length;
        await client.uploadFrame(task.id, frame, { file, format: frames.format, leaseToken: task.leaseToken, renderTimeMs }, { signal });
        this.observe({ kind: "uploaded", taskId: task.id, frame });
      }
    } catch (error) {
      if (error instanceof FrameRejected) return this.fail(current, [error.message], result.logTail);
      throw error;
    }
    await client.complete(task.id, { leaseToken: task.leaseToken }, { signal });
    current.settled = true;
    this.log(`Task ${task.id}: frames ${frames.frameStart}-${frames.frameEnd} done in ${(wallMs / 1000).toFixed(1)} s.`);
    this.observe({ kind: "done", taskId: task.id });
  }

  private async inspect(task: ClaimedTask, archive: CachedArchive, current: Current) {
    const signal = current.abort.signal;
    const outcome = await inspectScene({ blender: this.options.blender, blendFile: archive.blendFile, runner: this.options.runner, signal });
    if (current.why) return;
    if (!outcome.ok) return this.fail(current, [outcome.error], outcome.logTail);
    await this.options.client.inspection(task.id, { leaseToken: task.leaseToken, facts: outcome.facts }, { signal });
    current.settled = true;
    this.log(`Task ${task.id}: inspected archive ${task.archive.hash.slice(0, 12)}.`);
    this.observe({ kind: "done", taskId: task.id });
  }

  /** Reports a failure with Blender's `Error:` lines and the end of its log. */
  private async fail(current: Current, errors: string[], logTail: string[]) {
    const { task } = current;
    const error = (errors.join("\n") || "Blender failed without saying why.").slice(0, MAX_ERROR_CHARS);
    this.log(`Task ${task.id} failed: ${error}`);
    await this.options.client.fail(task.id, { leaseToken: task.leaseToken, error, logTail: logTail.join("\n").slice(-LOG_TAIL_BYTES) });
    current.settled = true;
    this.observe({ kind: "failed", taskId: task.id, error });
  }

  private async afterError(current: Current, error: unknown) {
    const { task } = current;
    if (current.why) return;
    if (error instanceof WorkerUnauthorized) throw error;
    if (error instanceof StaleLease) return this.stopCurrent("stale", error.message);
    if (error instanceof ServerUnreachable) {
      this.log(`Task ${task.id}: ${error.message}. Its lease will expire and the server will hand it out again.`);
      return;
    }
    // Anything else (a corrupt download, a zip that would escape) is this task's failure.
    await this.fail(current, [(error as Error).message], []).catch((failError: Error) => {
      this.log(`Task ${task.id}: could not report the failure (${failError.message}).`);
    });
  }

  private stopCurrent(why: StopReason, reason: string) {
    const current = this.current;
    if (!current || current.why || current.settled) return;
    current.why = why;
    current.reason = reason;
    current.abort.abort();
  }

  private async dropped({ task, why, reason }: Current) {
    this.log(`Task ${task.id} dropped (${why}): ${reason}`);
    if (why === "shutdown") await this.release(task);
    this.observe({ kind: "dropped", taskId: task.id, why: why!, reason });
  }

  /** Back to the queue, no failure counted; a lease already gone needs nothing. */
  private async release(task: ClaimedTask) {
    try {
      // Bounded: a server that is down must not hold up a systemd stop.
      await this.options.client.release(task.id, task.leaseToken, { signal: AbortSignal.timeout(15_000) });
      this.log(`Task ${task.id} released back to the queue.`);
    } catch (error) {
      if (error instanceof WorkerUnauthorized) throw error;
      this.log(`Task ${task.id} was not released (${(error as Error).message}); its lease will expire.`);
    }
  }

  private now() {
    return this.options.now?.() ?? new Date();
  }

  private observe(event: LoopEvent) {
    this.options.observe?.(event);
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
