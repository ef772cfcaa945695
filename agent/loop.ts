import type { ClaimedTask } from "../contract";
import type { SandboxMode } from "../domain/sandbox";
import type { ArchiveCache } from "./archive-cache";
import type { BlenderInfo, BlenderRunner } from "./blender";
import { type AgentClient, type HelloResponse, ServerRefused, ServerUnreachable, WorkerDisabled, WorkerUnauthorized } from "./client";
import { detectBlenderAndEngines } from "./engines";
import { OwnerPause } from "./owner-pause";
import type { OwnerWatch } from "./owner-watch";
import { Prefetcher } from "./prefetch";
import type { AwakeSchedule } from "./schedule";
import { type LoopEvent, TaskRun, releaseTask } from "./task-run";
import { delay, doubled, jittered } from "./timing";

export type { LoopEvent };

// The agent's loop (docs/design.md §5, like Flamenco's state_awake.go): hello → claim → archive →
// Blender with heartbeats → upload → complete → claim again at once. The next claim goes
// out as Blender saves a task's last frame (it answers while Blender quits), and the frames
// upload and the task completes while the next one renders: Blender does not wait on the
// server between frames. An idle agent's claim is a long poll: the server holds it until a
// task appears (or 30 s pass), so it starts a new render at once; only errors (and a server
// that answers an empty queue at once) make it back off with jitter. Only a stop or --once
// ends it.

export interface LoopOptions {
  client: AgentClient;
  cache: ArchiveCache;
  blender: string;
  threads: number;
  agentVersion: string;
  /** What detectBlenderAndEngines found; detected at the start of run() when not given. */
  blenderInfo?: BlenderInfo;
  /** How the runner runs Blender, told to the server at hello. */
  sandbox: SandboxMode;
  runner?: BlenderRunner;
  /** Stop (resolve run()) at the first claim that finds no task. */
  once?: boolean;
  schedule?: AwakeSchedule | null;
  /**
   * After the first hello: makes sure the server has this machine's benchmark (measuring
   * it when needed, agent/benchmark.ts), given the one the server holds.
   */
  benchmark?: (server: HelloResponse["benchmark"], signal: AbortSignal) => Promise<void>;
  /** Where each task gets its own output dir. */
  workDir?: string;
  heartbeatMs?: number;
  progressBeatMinMs?: number;
  /**
   * How long the server may hold an idle agent's claim until work appears (a long poll;
   * default 30 s, 0: never). --once never waits.
   */
  claimWaitSeconds?: number;
  /** Backoff when a claim comes back empty at once (a server that does not hold claims), and when the server is away. */
  idle?: { initialMs: number; maxMs: number };
  /** On stop, how long the current task may take to end by itself before it is released. */
  stopGraceMs?: number;
  /** Watches for the owner's own work on this machine (--busy-cpu); null: never pauses for it. */
  owner?: OwnerWatch | null;
  /** When the owner's work begins, how long the task rendering may take to end by itself before it is released. */
  pauseGraceMs?: number;
  /** Fetch the next work's archive while a frame renders (agent/prefetch.ts); default on. */
  prefetch?: boolean;
  killGraceMs?: number;
  random?: () => number;
  now?: () => Date;
  log?: (message: string) => void;
  observe?: (event: LoopEvent) => void;
}

/** Held by the server until work appears: an idle agent starts a new render within a second. */
export const DEFAULT_CLAIM_WAIT_SECONDS = 30;

export class AgentLoop {
  private readonly wake = new AbortController();
  private stopping = false;
  /** The task rendering, and the one before it while its frames upload. */
  private readonly runs = new Set<TaskRun>();
  /** The last task's run to its end (uploads, complete): the next waits for it before its uploads. */
  private settling: Promise<void> = Promise.resolve();
  /** The next task, claimed while Blender quits (undefined: the claim failed and was waited out). */
  private ahead: Promise<ClaimedTask | null | undefined> | null = null;
  private graceTimer: NodeJS.Timeout | undefined;
  /** The task whose Blender runs now (the one uploading is not stopped for the owner). */
  private rendering: TaskRun | null = null;
  private readonly owner: OwnerPause;
  private readonly prefetcher: Prefetcher | null;
  private finished: Promise<void> = Promise.resolve();
  private benchmarked = false;
  private blenderInfo: BlenderInfo | undefined;
  private heartbeatMs: number;
  private readonly idle: { initialMs: number; maxMs: number };
  private readonly claimWaitSeconds: number;
  private readonly log: (message: string) => void;

  constructor(private readonly options: LoopOptions) {
    this.blenderInfo = options.blenderInfo;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.idle = options.idle ?? { initialMs: 1000, maxMs: 30_000 };
    this.claimWaitSeconds = options.claimWaitSeconds ?? DEFAULT_CLAIM_WAIT_SECONDS;
    this.log = options.log ?? (() => undefined);
    this.prefetcher = options.prefetch === false ? null : new Prefetcher({ client: options.client, cache: options.cache, log: this.log });
    this.owner = new OwnerPause({
      watch: options.owner ?? null,
      graceMs: options.pauseGraceMs ?? 30_000,
      rendering: () => this.rendering,
      stopping: () => this.stopping,
      log: this.log,
    });
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
      const running = [...this.runs].map((run) => run.task.id);
      if (running.length > 0) {
        this.log(
          `Stopping: task${running.length > 1 ? "s" : ""} ${running.join(" and ")} ${running.length > 1 ? "have" : "has"} ` +
            `${Math.round(graceMs / 1000)} s to finish, else ${running.length > 1 ? "they go" : "it goes"} back to the queue.`,
        );
        this.graceTimer = setTimeout(() => {
          for (const run of this.runs) run.stop("shutdown", "the agent is stopping");
        }, graceMs);
      }
    }
    return this.finished.then(
      () => undefined,
      () => undefined,
    );
  }

  private async loop(): Promise<void> {
    this.blenderInfo ??= await detectBlenderAndEngines(this.options.blender, { runner: this.options.runner, log: this.log });
    this.owner.start();
    try {
      await this.claimAndRun();
      await this.settling;
    } finally {
      this.owner.stop();
      await this.prefetcher?.stop();
      // Leaving on an error: the last task still ends (or is stopped by the grace timer).
      await this.settling.catch(() => undefined);
      clearTimeout(this.graceTimer);
      await this.releaseAhead();
    }
  }

  private async claimAndRun(): Promise<void> {
    const { client, schedule, once } = this.options;
    let greeted = false;
    let idleMs = this.idle.initialMs;
    while (!this.stopping) {
      // A task claimed ahead is rendered even if the schedule just ended: it is the current one's tail.
      const ahead = this.takeAhead();
      if (!ahead && schedule && !schedule.isAwake(this.now())) {
        await this.sleepUntilAwake(schedule);
        greeted = false;
        continue;
      }
      if (this.owner.verdict().busy) {
        // Nothing new while the owner works, not even a task claimed ahead.
        if (ahead) await this.release(ahead);
        await this.owner.waitOut((reason) => this.tellPaused(reason), this.wake.signal, (event) => this.observe(event));
        greeted = false;
        continue;
      }
      if (!ahead && !greeted) {
        const answer = await this.patiently(() => this.hello("idle"));
        greeted = answer !== undefined;
        if (answer && !this.benchmarked) {
          this.benchmarked = true;
          await this.benchmark(answer.benchmark);
        }
        continue;
      }
      const waitSeconds = once ? 0 : this.claimWaitSeconds;
      const askedAt = Date.now();
      const signal = AbortSignal.any([this.wake.signal, this.owner.signal]);
      const task = await (ahead ?? this.patiently(() => client.claim({ signal, waitSeconds })));
      if (task === undefined) continue;
      if (task === null) {
        if (once) return;
        // A claim the server held (a long poll) came back empty: ask again at once. One
        // answered at once (a server that does not hold claims) backs off as before.
        if (!ahead && waitSeconds > 0 && Date.now() - askedAt >= Math.min(1000, waitSeconds * 500)) {
          idleMs = this.idle.initialMs;
          continue;
        }
        const waitMs = jittered(idleMs, this.options.random);
        this.observe({ kind: "idle", waitMs });
        await delay(waitMs, this.wake.signal);
        idleMs = doubled(idleMs, this.idle.maxMs);
        continue;
      }
      idleMs = this.idle.initialMs;
      if (this.stopping) {
        await releaseTask(client, task, this.log);
        break;
      }
      await this.runTask(task);
    }
  }

  /**
   * Claims the next task while Blender quits. Not when stopping, and not while an earlier
   * task still uploads: at most one task rendering and one uploading hold leases.
   */
  private claimAhead(): void {
    if (this.stopping || this.ahead || this.runs.size > 1 || this.owner.verdict().busy) return;
    const ahead = this.patiently(() => this.options.client.claim({ signal: this.wake.signal }));
    // Awaited at the top of the loop, or released at its end; marked handled until then.
    ahead.catch(() => undefined);
    this.ahead = ahead;
  }

  private takeAhead() {
    const ahead = this.ahead;
    this.ahead = null;
    return ahead;
  }

  /** A task claimed ahead that the loop will not run (it stopped, or failed): back to the queue. */
  private async releaseAhead(): Promise<void> {
    const ahead = this.takeAhead();
    if (ahead) await this.release(ahead);
  }

  private async release(claimed: Promise<ClaimedTask | null | undefined>): Promise<void> {
    const task = await claimed.catch(() => undefined);
    if (task) await releaseTask(this.options.client, task, this.log);
  }

  /** Measures WUPM before the first claim; a benchmark that fails leaves the worker rendering without a new one. */
  private async benchmark(server: HelloResponse["benchmark"]): Promise<void> {
    if (!this.options.benchmark) return;
    try {
      await this.options.benchmark(server, this.wake.signal);
    } catch (error) {
      if (error instanceof WorkerUnauthorized) throw error;
      if (this.stopping) return;
      this.log(`${(error as Error).message} Rendering on without a new WUPM; \`cactus-agent benchmark\` tries again.`);
    }
  }

  private async tellPaused(reason: string): Promise<void> {
    await this.hello("paused", reason).then(
      () => undefined,
      (error: Error) => {
        if (error instanceof WorkerUnauthorized) throw error;
        this.log(`Could not tell the server the agent is paused: ${error.message}`);
      },
    );
  }

  private async hello(status: "idle" | "sleeping" | "paused", pausedReason?: string) {
    const info = this.blenderInfo!;
    const answer = await this.options.client.hello(
      {
        blenderVersion: info.version,
        capabilities: {
          denoiser: info.hasDenoiser,
          threads: this.options.threads,
          agentVersion: this.options.agentVersion,
          sandbox: this.options.sandbox,
          ...(info.engines ? { engines: info.engines } : {}),
        },
        status,
        ...(pausedReason === undefined ? {} : { pausedReason }),
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
      // Cut by a stop, or by the owner's work beginning: the top of the loop sees to it.
      if (this.stopping || this.owner.signal.aborted) return undefined;
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

  /**
   * Runs the task until Blender has written its frames (or it ended otherwise); its
   * uploads and complete go on in the background while the loop claims the next. At most
   * one task uploads at a time, in order: this one's wait for the previous one's.
   */
  private async runTask(task: ClaimedTask): Promise<void> {
    const { options } = this;
    const previous = this.settling;
    let rendered: () => void = () => undefined;
    const blenderDone = new Promise<void>((resolve) => (rendered = resolve));
    const run = new TaskRun(task, {
      ...options,
      heartbeatMs: this.heartbeatMs,
      isStopping: () => this.stopping,
      onLastFrameSaved: () => this.claimAhead(),
      onRendered: () => {
        rendered();
        return previous.catch(() => undefined);
      },
      log: this.log,
      observe: (event) => {
        // Blender renders: the network is free to fetch what comes next.
        if (event.kind === "blenderStarted") this.prefetcher?.whileRendering(task.archive.hash);
        this.observe(event);
      },
    });
    this.runs.add(run);
    this.rendering = run;
    this.owner.taskStarted();
    const finished = run.run().finally(() => this.runs.delete(run));
    // Awaited by the next task or at the loop's end; marked handled until then.
    finished.catch(() => undefined);
    this.settling = finished;
    await Promise.race([finished, blenderDone]);
    this.rendering = null;
    this.owner.taskRendered();
    await previous;
  }

  private now() {
    return this.options.now?.() ?? new Date();
  }

  private observe(event: LoopEvent) {
    this.options.observe?.(event);
  }
}
