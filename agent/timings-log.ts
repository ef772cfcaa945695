import fs from "node:fs";
import type { LoopEvent } from "./task-run";

// CACTUS_AGENT_TIMINGS=FILE: one JSON line per step of each task, for `npm run bench:agent`
// (the gap between a frame's upload and the next Blender start, the time outside Blender).
// Off unless set: a worker has no use for it.

export type TimingEvent = "claimed" | "blender-start" | "blender-exit" | "upload-done" | "completed" | "failed" | "dropped";

export interface TimingLine {
  event: TimingEvent;
  taskId: number;
  /** Wall-clock milliseconds since the epoch, to the microsecond: comparable between agents. */
  at: number;
  /** On `claimed`: render or inspect. */
  kind?: "render" | "inspect";
  /** On `upload-done`. */
  frame?: number;
}

export interface TimingsLog {
  observe(event: LoopEvent): void;
  close(): void;
}

/** The timing line of a loop event; events without a task (idle, sleeping) have none. */
export function timingLine(event: LoopEvent, at: number): TimingLine | null {
  switch (event.kind) {
    case "claimed":
      return { event: "claimed", taskId: event.task.id, at, kind: event.task.kind };
    case "blenderStarted":
      return { event: "blender-start", taskId: event.taskId, at };
    case "blenderExited":
      return { event: "blender-exit", taskId: event.taskId, at };
    case "uploaded":
      return { event: "upload-done", taskId: event.taskId, at, frame: event.frame };
    case "done":
      return { event: "completed", taskId: event.taskId, at };
    case "failed":
      return { event: "failed", taskId: event.taskId, at };
    case "dropped":
      return { event: "dropped", taskId: event.taskId, at };
    default:
      return null;
  }
}

/**
 * Appends the lines to `file`. Written synchronously: microseconds each, nothing is lost
 * when the agent is killed, and the time taken is not deferred into the next step.
 */
export function openTimingsLog(file: string, clock: () => number = () => performance.timeOrigin + performance.now()): TimingsLog {
  const fd = fs.openSync(file, "a");
  let open = true;
  return {
    observe(event) {
      const line = timingLine(event, clock());
      if (line && open) fs.writeSync(fd, `${JSON.stringify(line)}\n`);
    },
    close() {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
    },
  };
}
