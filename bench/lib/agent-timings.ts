import fs from "node:fs/promises";
import type { TimingLine } from "../../agent/timings-log";

// What `npm run bench:agent` reads from each agent's CACTUS_AGENT_TIMINGS file: per task,
// when it was claimed, when Blender started and exited, when its frame was uploaded and
// when it was completed; from those, the gaps between tasks and the time outside Blender.

export interface TaskTimes {
  taskId: number;
  claimed: number;
  blenderStart: number;
  blenderExit: number;
  /** The last frame's upload done. */
  uploaded: number;
  completed: number;
}

/**
 * Between two tasks on one agent. The agent claims the next task as soon as Blender has
 * written a task's frames and uploads them while the next renders, so the next Blender
 * may start before the upload is done: `afterUploadMs` is negative then.
 */
export interface Gap {
  /** upload done → next Blender start: the figure. */
  afterUploadMs: number;
  /** Blender exit → next Blender start: how long Blender was idle. */
  idleMs: number;
  /** Blender exit → next task claimed (the claim call, and waiting on the previous upload). */
  claimMs: number;
  /** next task claimed → its Blender start: archive from the cache, output dir, argv. */
  prepareMs: number;
}

export interface AgentTimes {
  tasks: TaskTimes[];
  gaps: Gap[];
  /** First render task claimed → last completed. */
  wallMs: number;
  /** Σ Blender start → exit (Blender's own start-up and scene loading included). */
  blenderMs: number;
  /** Σ Blender exit → frame uploaded. */
  uploadMs: number;
}

export async function readTimings(file: string): Promise<TimingLine[]> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TimingLine);
}

/**
 * One agent's render tasks, in the order it ran them. Inspect tasks are left out; a
 * render task that did not go claim → Blender → upload → complete is an error: the
 * figures of a run with failures would not mean what they say.
 */
export function agentTimes(lines: TimingLine[]): AgentTimes {
  const byTask = new Map<number, TimingLine[]>();
  for (const line of lines) byTask.set(line.taskId, [...(byTask.get(line.taskId) ?? []), line]);
  const tasks: TaskTimes[] = [];
  for (const [taskId, events] of byTask) {
    if (events.find((event) => event.event === "claimed")?.kind !== "render") continue;
    const at = (name: TimingLine["event"]) => {
      const found = events.filter((event) => event.event === name);
      if (found.length === 0) throw new Error(`task ${taskId} has no ${name}: ${JSON.stringify(events)}`);
      return found[found.length - 1].at;
    };
    const bad = events.find((event) => event.event === "failed" || event.event === "dropped");
    if (bad) throw new Error(`task ${taskId} was ${bad.event}: the run had trouble, see the agents' logs`);
    tasks.push({
      taskId,
      claimed: at("claimed"),
      blenderStart: at("blender-start"),
      blenderExit: at("blender-exit"),
      uploaded: at("upload-done"),
      completed: at("completed"),
    });
  }
  tasks.sort((a, b) => a.claimed - b.claimed);
  const gaps = tasks.slice(1).map((next, index): Gap => {
    const previous = tasks[index];
    return {
      afterUploadMs: next.blenderStart - previous.uploaded,
      idleMs: next.blenderStart - previous.blenderExit,
      claimMs: next.claimed - previous.blenderExit,
      prepareMs: next.blenderStart - next.claimed,
    };
  });
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  return {
    tasks,
    gaps,
    wallMs: tasks.length ? tasks[tasks.length - 1].completed - tasks[0].claimed : 0,
    blenderMs: sum(tasks.map((task) => task.blenderExit - task.blenderStart)),
    uploadMs: sum(tasks.map((task) => task.uploaded - task.blenderExit)),
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}
