import { readFileSync, readdirSync } from "node:fs";
import { type MachineSample, type OwnerVerdict, type PolitenessRules, OwnerActivity } from "../domain/politeness";

// Is the owner using this machine? (docs/design.md §5; the rules are domain/politeness.ts.)
// Every few seconds it reads, from /proc, how much CPU the whole machine used and how much
// of it was the agent's own (the agent, its Blender and whatever else it started): the rest
// is its owner's programs. And whether a Blender runs that is not the agent's and not in
// background mode: someone at the desktop working in it.

/** CPU time, in clock ticks, of the machine and of the agent's own processes. */
export interface CpuReading {
  machineBusy: number;
  machineTotal: number;
  own: number;
  interactiveBlender: string | null;
}

export type MachineProbe = () => CpuReading;

/** Reads /proc: `root` is the agent's pid; its descendants are its own too. */
export function procProbe(root: number = process.pid, proc = "/proc"): MachineProbe {
  return () => {
    const fields = readFileSync(`${proc}/stat`, "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const machineBusy = user + nice + system + irq + softirq + steal;
    const processes = readProcesses(proc);
    const own = ownProcesses(processes, root);
    let ownTicks = 0;
    let interactiveBlender: string | null = null;
    for (const process of processes.values()) {
      if (own.has(process.pid)) ownTicks += process.ticks;
      else if (interactiveBlender === null && /^blender/i.test(process.name)) interactiveBlender = interactive(proc, process.pid);
    }
    return { machineBusy, machineTotal: machineBusy + idle + iowait, own: ownTicks, interactiveBlender };
  };
}

interface ProcessStat {
  pid: number;
  ppid: number;
  name: string;
  /** utime + stime + cutime + cstime: a reaped child's time moves into its parent's, so the sum over a tree never drops. */
  ticks: number;
}

function readProcesses(proc: string): Map<number, ProcessStat> {
  const processes = new Map<number, ProcessStat>();
  for (const entry of readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`${proc}/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // "pid (name) state ppid …": the name may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const rest = stat.slice(close + 2).split(" ");
    const [utime, stime, cutime, cstime] = rest.slice(11, 15).map(Number);
    processes.set(Number(entry), {
      pid: Number(entry),
      ppid: Number(rest[1]),
      name: stat.slice(stat.indexOf("(") + 1, close),
      ticks: utime + stime + cutime + cstime,
    });
  }
  return processes;
}

function ownProcesses(processes: Map<number, ProcessStat>, root: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const { pid, ppid } of processes.values()) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const own = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (own.has(pid)) continue;
    own.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return own;
}

/** Its command line when that Blender has a window (no -b / --background), else null. */
function interactive(proc: string, pid: number): string | null {
  let argv: string[];
  try {
    argv = readFileSync(`${proc}/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return null;
  }
  if (argv.some((arg) => arg === "-b" || arg === "--background")) return null;
  return argv.map((arg) => arg.split("/").pop()).join(" ").slice(0, 120) || "blender";
}

export interface OwnerWatchOptions {
  rules: PolitenessRules;
  probe?: MachineProbe;
  everyMs?: number;
  now?: () => number;
}

/** Samples the machine every few seconds while started; the verdict of domain/politeness.ts. */
export class OwnerWatch {
  private readonly activity: OwnerActivity;
  private readonly probe: MachineProbe;
  private last: CpuReading | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(verdict: OwnerVerdict) => void>();

  constructor(private readonly options: OwnerWatchOptions) {
    this.activity = new OwnerActivity(options.rules);
    this.probe = options.probe ?? procProbe();
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.everyMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  verdict(): OwnerVerdict {
    return this.activity.verdict();
  }

  /** Calls `listener` each time the machine turns busy or quiet again; answers a function that stops it. */
  listen(listener: (verdict: OwnerVerdict) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves at the next change of verdict (or when `signal` aborts). */
  changed(signal?: AbortSignal): Promise<OwnerVerdict> {
    return new Promise((resolve) => {
      const done = (verdict: OwnerVerdict) => {
        this.listeners.delete(done);
        signal?.removeEventListener("abort", aborted);
        resolve(verdict);
      };
      const aborted = () => done(this.verdict());
      if (signal?.aborted) return aborted();
      signal?.addEventListener("abort", aborted, { once: true });
      this.listeners.add(done);
    });
  }

  /** One reading: the share of the machine's CPU others used since the last. */
  sample(): void {
    let reading: CpuReading;
    try {
      reading = this.probe();
    } catch {
      return; // no /proc (not Linux): nothing to judge by
    }
    const last = this.last;
    this.last = reading;
    if (!last) return;
    const total = reading.machineTotal - last.machineTotal;
    if (total <= 0) return;
    const others = reading.machineBusy - last.machineBusy - Math.max(0, reading.own - last.own);
    const sample: MachineSample = {
      at: this.options.now?.() ?? Date.now(),
      othersCpu: Math.min(1, Math.max(0, others / total)),
      interactiveBlender: reading.interactiveBlender,
    };
    const before = this.activity.verdict();
    const after = this.activity.add(sample);
    if (before.busy !== after.busy) {
      for (const listener of [...this.listeners]) listener(after);
    }
  }
}
