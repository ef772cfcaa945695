// Calibration from close frames (docs/design.md §2): how fast each worker renders THIS
// render, in WU per minute, on the benchmark's scale. Neighbouring frames cost nearly
// the same, so when different workers render frames within ±2 of each other, their
// times say how fast they are relative to each other. The model:
//
//     log t(w, f) = log c(f) − log s(w) + ε
//
// t in minutes, c the frame's cost in WU, s the worker's speed in WUPM. Frames are put
// in groups of close frames (at most 4 frames apart: all within ±2 of the group's
// middle), c is one number per group, and c and s are fitted by alternating least
// squares. Only groups that two workers rendered in say anything about speeds. The fit
// fixes s up to one factor per set of linked workers; that factor keeps the benchmark's
// scale: the mean of log s equals the mean of the benchmark's log WUPM over them.
// Decision 013.

/** Frames within this many frames (of the render's range) of each other are close. */
export const CLOSE_FRAMES = 2;

export interface FrameTime {
  /** Position of the frame in the render's range (0-based), so a step does not spread close frames apart. */
  index: number;
  workerId: number;
  minutes: number;
}

export interface WorkerSpeed {
  /** WU per minute on this render. */
  wupm: number;
  /** True when fitted from close frames; false when it is the benchmark's alone. */
  calibrated: boolean;
  /** Frames of this worker in groups that another worker rendered in too. */
  closeFrames: number;
}

const ITERATIONS = 200;
const TOLERANCE = 1e-10;

/**
 * Each worker's speed on this render: fitted from close frames where there are some,
 * else its benchmark WUPM; a worker with neither is left out. `benchmarks` are WUPM by
 * worker id.
 */
export function calibrate(times: readonly FrameTime[], benchmarks: ReadonlyMap<number, number>): Map<number, WorkerSpeed> {
  const speeds = new Map<number, WorkerSpeed>();
  for (const [workerId, wupm] of benchmarks) {
    if (wupm > 0) speeds.set(workerId, { wupm, calibrated: false, closeFrames: 0 });
  }
  const groups = linkingGroups(times.filter((time) => time.minutes > 0));
  if (groups.length === 0) return speeds;

  const observations = groups.flatMap((group, groupIndex) => group.map((time) => ({ ...time, group: groupIndex, log: Math.log(time.minutes) })));
  const workers = [...new Set(observations.map((o) => o.workerId))];
  const logSpeed = new Map(workers.map((id) => [id, Math.log(benchmarks.get(id) ?? 1)]));
  const logCost = new Array<number>(groups.length).fill(0);

  for (let iteration = 0; iteration < ITERATIONS; iteration += 1) {
    // c given s: each group's cost is the mean of what its frames say it is.
    const costSum = new Array<number>(groups.length).fill(0);
    const costCount = new Array<number>(groups.length).fill(0);
    for (const o of observations) {
      costSum[o.group] += o.log + logSpeed.get(o.workerId)!;
      costCount[o.group] += 1;
    }
    for (let g = 0; g < groups.length; g += 1) logCost[g] = costSum[g] / costCount[g];
    // s given c: each worker's speed is the mean of what its frames say it is.
    const speedSum = new Map<number, number>();
    const speedCount = new Map<number, number>();
    for (const o of observations) {
      speedSum.set(o.workerId, (speedSum.get(o.workerId) ?? 0) + logCost[o.group] - o.log);
      speedCount.set(o.workerId, (speedCount.get(o.workerId) ?? 0) + 1);
    }
    let change = 0;
    for (const id of workers) {
      const next = speedSum.get(id)! / speedCount.get(id)!;
      change = Math.max(change, Math.abs(next - logSpeed.get(id)!));
      logSpeed.set(id, next);
    }
    if (change < TOLERANCE) break;
  }

  for (const component of linkedWorkers(observations)) {
    const anchored = component.filter((id) => (benchmarks.get(id) ?? 0) > 0);
    // Linked workers none of which has a benchmark have no scale: leave them out.
    if (anchored.length === 0) continue;
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const shift = mean(anchored.map((id) => Math.log(benchmarks.get(id)!))) - mean(anchored.map((id) => logSpeed.get(id)!));
    for (const id of component) {
      const closeFrames = observations.filter((o) => o.workerId === id).length;
      speeds.set(id, { wupm: Math.exp(logSpeed.get(id)! + shift), calibrated: true, closeFrames });
    }
  }
  return speeds;
}

/**
 * Frames in groups of close frames (sorted, each group spanning at most 2 × CLOSE_FRAMES),
 * keeping only the groups that more than one worker rendered in.
 */
function linkingGroups(times: readonly FrameTime[]): FrameTime[][] {
  const sorted = [...times].sort((a, b) => a.index - b.index);
  const groups: FrameTime[][] = [];
  let current: FrameTime[] = [];
  for (const time of sorted) {
    if (current.length > 0 && time.index - current[0].index > 2 * CLOSE_FRAMES) {
      groups.push(current);
      current = [];
    }
    current.push(time);
  }
  if (current.length > 0) groups.push(current);
  return groups.filter((group) => new Set(group.map((time) => time.workerId)).size > 1);
}

/** Workers linked through groups they share, directly or through others: each set is scaled on its own. */
function linkedWorkers(observations: readonly { workerId: number; group: number }[]): number[][] {
  const parent = new Map<number, number>();
  const find = (id: number): number => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(id, root);
    return root;
  };
  const firstInGroup = new Map<number, number>();
  for (const { workerId, group } of observations) {
    if (!parent.has(workerId)) parent.set(workerId, workerId);
    const first = firstInGroup.get(group);
    if (first === undefined) firstInGroup.set(group, workerId);
    else parent.set(find(workerId), find(first));
  }
  const components = new Map<number, number[]>();
  for (const id of parent.keys()) {
    const root = find(id);
    components.set(root, [...(components.get(root) ?? []), id]);
  }
  return [...components.values()];
}
