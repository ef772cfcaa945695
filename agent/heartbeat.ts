import type { ClaimedTask } from "../contract";
import { type AgentClient, ServerRefused, StaleLease, WorkerDisabled } from "./client";

/** Why a task's work stops before it ends by itself: paused is the machine's owner at work. */
export type StopReason = "cancelled" | "stale" | "shutdown" | "paused";

export interface HeartbeatOptions {
  intervalMs: number;
  /** A progress nudge beats at most this often. */
  minGapMs: number;
  /** The progress to report now. */
  progress: () => { progress: number; frame: number | null };
  /**
   * The server said stop (keepRunning: false), or the lease is gone (409 / 404), or the
   * owner disabled this worker (403: its task went back to the queue then).
   */
  onStop: (why: Exclude<StopReason, "shutdown" | "paused">, reason: string) => void;
  log: (message: string) => void;
}

/**
 * "May I keep running?" every few seconds while a task runs (like Flamenco's
 * mayKeepRunning), and sooner when Blender makes progress. One heartbeat at a time: while
 * the server is unreachable the one in flight keeps retrying and the render goes on.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private lastSent = Date.now();
  private readonly abort = new AbortController();

  constructor(
    private readonly client: AgentClient,
    private readonly task: ClaimedTask,
    private readonly options: HeartbeatOptions,
  ) {}

  start(): void {
    this.lastSent = Date.now();
    this.timer = setInterval(() => void this.beat(), this.options.intervalMs);
  }

  /** Progress moved: tell the server now, unless it heard from us a moment ago. */
  nudge(): void {
    if (Date.now() - this.lastSent >= this.options.minGapMs) void this.beat();
  }

  stop(): void {
    clearInterval(this.timer);
    this.abort.abort();
  }

  private async beat(): Promise<void> {
    if (this.inFlight || this.abort.signal.aborted) return;
    this.inFlight = true;
    this.lastSent = Date.now();
    const { id, leaseToken } = this.task;
    try {
      const { progress, frame } = this.options.progress();
      const answer = await this.client.heartbeat(
        id,
        { leaseToken, progress: Math.min(1, Math.max(0, progress)), ...(frame === null ? {} : { frame }) },
        { signal: this.abort.signal },
      );
      if (!answer.keepRunning && !this.abort.signal.aborted) {
        this.options.onStop("cancelled", answer.reason ?? "the server asked to stop");
      }
    } catch (error) {
      if (this.abort.signal.aborted) return;
      const leaseGone =
        error instanceof StaleLease || error instanceof WorkerDisabled || (error instanceof ServerRefused && error.status === 404);
      if (leaseGone) {
        this.options.onStop("stale", error.message);
      } else {
        this.options.log(`Heartbeat of task ${id} failed (${(error as Error).message}); rendering on.`);
      }
    } finally {
      this.inFlight = false;
    }
  }
}
