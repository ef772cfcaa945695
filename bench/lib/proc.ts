import fs from "node:fs/promises";

/** A field of /proc/<pid>/status in bytes, e.g. VmRSS or VmHWM (the peak RSS). */
export async function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** CPU time a process has used so far (user + system, all its threads), in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name, which sits in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux Node supports
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/**
 * Peak RSS of a process over a stretch of time. VmHWM is the kernel's own high-water mark;
 * writing 5 to clear_refs resets it to the current RSS, so the peak is the stretch's, not
 * the boot's. Sampling VmRSS too gives a figure where the reset is not allowed.
 */
export class PeakMemory {
  private sampledPeak = 0;
  private timer: NodeJS.Timeout | undefined;
  private hwmReset = false;

  constructor(private readonly pid: number) {}

  async start(intervalMs = 20): Promise<void> {
    try {
      await fs.writeFile(`/proc/${this.pid}/clear_refs`, "5");
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.sampledPeak = await procStatusBytes(this.pid, "VmRSS");
    this.timer = setInterval(() => {
      procStatusBytes(this.pid, "VmRSS").then(
        (rss) => (this.sampledPeak = Math.max(this.sampledPeak, rss)),
        () => undefined,
      );
    }, intervalMs);
  }

  /** Peak RSS in bytes since start(): the kernel's mark when it could be reset, else the samples'. */
  async stop(): Promise<{ peak: number; sampled: number; source: "VmHWM" | "sampled VmRSS" }> {
    clearInterval(this.timer);
    if (!this.hwmReset) return { peak: this.sampledPeak, sampled: this.sampledPeak, source: "sampled VmRSS" };
    const hwm = await procStatusBytes(this.pid, "VmHWM");
    return { peak: Math.max(hwm, this.sampledPeak), sampled: this.sampledPeak, source: "VmHWM" };
  }
}
