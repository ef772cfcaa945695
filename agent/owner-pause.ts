import type { OwnerVerdict } from "../domain/politeness";
import type { OwnerWatch } from "./owner-watch";
import type { LoopEvent, TaskRun } from "./task-run";

// The loop's side of "polite on its owner's machine" (docs/design.md §5): when the owner's
// work begins, a held claim is cut and the task rendering gets a grace period to end by
// itself, else it goes back to the queue; then the agent waits the work out, telling the
// server it is paused and why, until agent/owner-watch.ts says the machine is quiet.

export interface OwnerPauseOptions {
  watch: OwnerWatch | null;
  /** How long the task rendering may take to end by itself once the owner's work begins. */
  graceMs: number;
  /** The task whose Blender runs now, if any. */
  rendering: () => TaskRun | null;
  stopping: () => boolean;
  log: (message: string) => void;
}

export class OwnerPause {
  private quiet = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;

  constructor(private readonly options: OwnerPauseOptions) {}

  start(): void {
    this.unlisten = this.options.watch?.listen((verdict) => this.changed(verdict));
  }

  stop(): void {
    this.unlisten?.();
    clearTimeout(this.timer);
  }

  /** Aborted while the owner works: cuts a held claim. */
  get signal(): AbortSignal {
    return this.quiet.signal;
  }

  verdict(): OwnerVerdict {
    return this.options.watch?.verdict() ?? { busy: false };
  }

  /** A task's Blender starts: if the owner is already at work, its grace period starts now. */
  taskStarted(): void {
    const verdict = this.verdict();
    if (verdict.busy) this.changed(verdict);
  }

  /** Blender has written the task's frames: nothing left to stop for the owner. */
  taskRendered(): void {
    clearTimeout(this.timer);
  }

  /** Waits out the owner's work, saying so to the server (cactus worker list: paused by its owner). */
  async waitOut(hello: (reason: string) => Promise<void>, wake: AbortSignal, observe: (event: LoopEvent) => void): Promise<void> {
    const { watch, log, stopping } = this.options;
    let verdict = this.verdict();
    if (!watch || !verdict.busy) return;
    observe({ kind: "paused", reason: verdict.reason });
    log(`Paused: ${verdict.reason}. Resuming once the machine has been quiet a while.`);
    while (!stopping() && verdict.busy) {
      await hello(verdict.reason);
      // About once a minute while paused, so the server shows it paused, not offline.
      verdict = await watch.changed(AbortSignal.any([wake, AbortSignal.timeout(60_000)]));
    }
    if (!stopping()) log("Resumed: the machine is quiet again.");
  }

  private changed(verdict: OwnerVerdict) {
    clearTimeout(this.timer);
    if (!verdict.busy) {
      this.quiet = new AbortController();
      return;
    }
    this.quiet.abort();
    const run = this.options.rendering();
    if (!run || this.options.stopping()) return;
    const { graceMs, log } = this.options;
    log(`The machine is busy (${verdict.reason}): task ${run.task.id} has ${Math.round(graceMs / 1000)} s to finish, else it goes back to the queue.`);
    this.timer = setTimeout(
      () => this.options.rendering()?.stop("paused", `the machine is busy with its owner's work (${verdict.reason})`),
      graceMs,
    );
  }
}
