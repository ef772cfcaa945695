// When an agent gives its machine back to its owner (docs/design.md §5): it pauses while
// the machine is busy with the owner's own work — other programs keep the CPU busy, or
// Blender is open on the desktop — and resumes once the machine has been quiet a while.
// Pure: the agent feeds it what it measured (agent/owner-watch.ts reads /proc).

export interface MachineSample {
  /** When it was taken (ms). */
  at: number;
  /** Share of the whole machine's CPU (0–1) used since the last sample by programs that are not the agent or its Blender. */
  othersCpu: number;
  /** An interactive Blender that is not the agent's (its command line), or null. */
  interactiveBlender: string | null;
}

export interface PolitenessRules {
  /** Others' CPU share (0–1) at or above which the machine is busy. */
  busyCpu: number;
  /** How long others must keep the CPU that busy, on average, before the agent pauses. */
  busyAfterMs: number;
  /** How long the machine must be quiet (no interactive Blender, others below busyCpu on average) before it resumes. */
  idleAfterMs: number;
}

export const DEFAULT_POLITENESS: PolitenessRules = { busyCpu: 0.5, busyAfterMs: 30_000, idleAfterMs: 120_000 };

export type OwnerVerdict = { busy: false } | { busy: true; reason: string };

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** The samples of the last few minutes, and whether they say the owner is using the machine. */
export class OwnerActivity {
  private samples: MachineSample[] = [];
  /** When the machine last looked busy, while paused; null while the agent works. */
  private lastBusyAt: number | null = null;
  private reason = "";

  constructor(private readonly rules: PolitenessRules = DEFAULT_POLITENESS) {}

  /** Takes a sample and answers the verdict it leads to. */
  add(sample: MachineSample): OwnerVerdict {
    this.samples.push(sample);
    this.samples = this.samples.filter((earlier) => sample.at - earlier.at <= this.rules.busyAfterMs);
    const busy = this.busyNow(sample);
    if (busy) {
      // Paused, or still busy: the quiet wait starts (again) from here.
      if (this.lastBusyAt !== null || busy.pauses) {
        this.lastBusyAt = sample.at;
        this.reason = busy.reason;
      }
    } else if (this.lastBusyAt !== null && sample.at - this.lastBusyAt >= this.rules.idleAfterMs) {
      this.lastBusyAt = null;
    }
    return this.verdict();
  }

  verdict(): OwnerVerdict {
    return this.lastBusyAt === null ? { busy: false } : { busy: true, reason: this.reason };
  }

  /** What makes the machine look busy now, and whether it is enough to pause an agent at work. */
  private busyNow(latest: MachineSample): { reason: string; pauses: boolean } | null {
    if (latest.interactiveBlender !== null) return { reason: `Blender is open on this machine (${latest.interactiveBlender})`, pauses: true };
    const { busyCpu, busyAfterMs } = this.rules;
    // Only a whole window says "busy" enough to pause: one heavy moment (a compile, a page load) does not.
    const whole = this.samples[0] !== latest && latest.at - this.samples[0].at >= busyAfterMs * 0.9;
    const share = mean(this.samples);
    if (share < busyCpu) return null;
    return { reason: `other programs keep ${percent(share)} of the CPU busy`, pauses: whole };
  }
}

function mean(samples: MachineSample[]): number {
  return samples.reduce((sum, sample) => sum + sample.othersCpu, 0) / samples.length;
}
