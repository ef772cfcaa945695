/**
 * Blender's console output, line by line, as events: the regexes live here and only here.
 * The shapes are Blender 3.4's (captured in agent/fixtures/):
 *
 *   Fra:1 Mem:9.51M (Peak 10.24M) | Time:00:00.11 | Remaining:00:00.00 | Mem:0.80M, Peak:0.80M | Scene, ViewLayer | Sample 1/4
 *   Fra:1 Mem:10.34M (Peak 11.45M) | Time:00:01.08 | Rendering 1 / 4 samples     (EEVEE)
 *   Saved: '/out/frame_00001.png'
 *    Time: 00:00.35 (Saving: 00:00.23)
 *   Error: Build without OpenImageDenoiser
 *
 * Workbench prints no `Fra:` lines at all, only `Saved:` and `Time:`. Cycles 3.4 in the
 * background prints "Sample 1/N" and then only "Sample N/N" when the frame is done (it
 * renders in large batches), so within a frame progress comes from its Remaining: guess.
 */

export type BlenderEvent =
  /**
   * A status line of the frame being rendered: how long it has been rendering, Cycles'
   * guess of what remains, and samples when the line counts them.
   */
  | {
      kind: "status";
      frame: number;
      elapsedMs: number | null;
      remainingMs: number | null;
      samplesDone: number | null;
      samplesTotal: number | null;
      message: string;
    }
  | { kind: "saved"; path: string }
  /** The frame just saved took this long, saving included. */
  | { kind: "frameTime"; ms: number }
  | { kind: "error"; message: string }
  /** A `CACTUS {json}` line: what the agent's render script found (agent/scripts/render.py). */
  | { kind: "settings"; settings: RenderSettings }
  /** A `CACTUS_FACTS {json}` line from agent/scripts/inspect.py, unchecked. */
  | { kind: "facts"; facts: unknown }
  /** A `CACTUS_BLENDER {json}` line from agent/scripts/detect.py, unchecked. */
  | { kind: "blender"; info: unknown }
  /** A `CACTUS_BENCHMARK {json}` line from agent/scripts/benchmark.py, unchecked. */
  | { kind: "benchmark"; run: unknown }
  /** A `CACTUS_ENGINE {json}` line from agent/scripts/engines.py: one engine's test frame. */
  | { kind: "engineTest"; test: { engine: string; ok: boolean; error: string | null; seconds: number | null } };

export interface RenderSettings {
  scene: string;
  engine: string;
  /** The size of the images Blender will write (percentage and crop applied). */
  width: number;
  height: number;
  mutedFileOutputs: string[];
}

const STATUS = /^Fra:(-?\d+) .*\| ([^|]*)$/;
const CLOCK = String.raw`(?:\d+:)?\d+:\d+(?:\.\d+)?`;
const ELAPSED = new RegExp(String.raw`\| Time:(${CLOCK}) \|`);
const REMAINING = new RegExp(String.raw`\| Remaining:(${CLOCK}) \|`);
// Cycles 3.x: "Sample 3/16"; Cycles 2.9x: "Path Tracing Tile 2/4, Sample 3/16".
const CYCLES_SAMPLES = /\bSample (\d+)\/(\d+)/;
// EEVEE (and Cycles before 2.90): "Rendering 3 / 16 samples".
const EEVEE_SAMPLES = /\bRendering (\d+) \/ (\d+) samples/;
const SAVED = /^Saved: '(.*)'$/;
const FRAME_TIME = new RegExp(String.raw`^ Time: (${CLOCK}) `);
const ERROR = /^Error: (.*)$/;
const JSON_LINE = /^(CACTUS|CACTUS_FACTS|CACTUS_BLENDER|CACTUS_BENCHMARK|CACTUS_ENGINE) (\{.*\})$/;

export function parseBlenderLine(line: string): BlenderEvent | null {
  const text = line.replace(/\r$/, "");
  const status = STATUS.exec(text);
  if (status) {
    const message = status[2].trim();
    const samples = CYCLES_SAMPLES.exec(message) ?? EEVEE_SAMPLES.exec(message);
    const elapsed = ELAPSED.exec(text);
    const remaining = REMAINING.exec(text);
    return {
      kind: "status",
      frame: Number(status[1]),
      elapsedMs: elapsed ? clockToMs(elapsed[1]) : null,
      remainingMs: remaining ? clockToMs(remaining[1]) : null,
      samplesDone: samples ? Number(samples[1]) : null,
      samplesTotal: samples ? Number(samples[2]) : null,
      message,
    };
  }
  const saved = SAVED.exec(text);
  if (saved) return { kind: "saved", path: saved[1] };
  const time = FRAME_TIME.exec(text);
  if (time) return { kind: "frameTime", ms: clockToMs(time[1]) };
  const error = ERROR.exec(text);
  if (error) return { kind: "error", message: error[1] };
  const json = JSON_LINE.exec(text);
  if (json) {
    let value: unknown;
    try {
      value = JSON.parse(json[2]);
    } catch {
      return null;
    }
    if (json[1] === "CACTUS_FACTS") return { kind: "facts", facts: value };
    if (json[1] === "CACTUS_BLENDER") return { kind: "blender", info: value };
    if (json[1] === "CACTUS_BENCHMARK") return { kind: "benchmark", run: value };
    if (json[1] === "CACTUS_ENGINE") return engineTestOf(value);
    return { kind: "settings", settings: value as RenderSettings };
  }
  return null;
}

function engineTestOf(value: unknown): BlenderEvent | null {
  const { engine, ok, error, seconds } = (value ?? {}) as Record<string, unknown>;
  if (typeof engine !== "string" || typeof ok !== "boolean") return null;
  return {
    kind: "engineTest",
    test: { engine, ok, error: typeof error === "string" ? error : null, seconds: typeof seconds === "number" ? seconds : null },
  };
}

/** "01:02.50" or "1:01:02.50" (Blender's render time) in milliseconds. */
function clockToMs(clock: string): number {
  const seconds = clock.split(":").reduce((total, part) => total * 60 + Number(part), 0);
  return Math.round(seconds * 1000);
}

/**
 * How far a chunk of frames is, from the events of its run: frames saved count whole,
 * the frame in progress by its samples or, between Cycles' rare sample lines, by the
 * clock against its Remaining: guess. Never goes back (a second view layer restarts the
 * sample count; the fraction holds until it passes).
 */
export class BlenderProgress {
  private readonly total: number;
  private savedFrames = 0;
  private sampleShare = 0;
  /** When the frame's last Remaining: guess was read, and the frame's length by it. */
  private guess: { seenAt: number; elapsedMs: number; expectedMs: number } | null = null;
  private reached = 0;
  /** The frame Blender is on, or null before the first status line. */
  frame: number | null = null;

  constructor({ frameStart, frameEnd }: { frameStart: number; frameEnd: number }) {
    this.total = Math.max(1, frameEnd - frameStart + 1);
  }

  update(event: BlenderEvent, now = Date.now()): void {
    if (event.kind === "status") {
      if (event.frame !== this.frame) {
        this.frame = event.frame;
        this.startFrame();
      }
      if (event.samplesDone !== null && event.samplesTotal) {
        this.sampleShare = Math.min(1, event.samplesDone / event.samplesTotal);
      }
      if (event.remainingMs !== null && event.elapsedMs !== null) {
        const expectedMs = event.elapsedMs + event.remainingMs;
        this.guess = expectedMs > 0 ? { seenAt: now, elapsedMs: event.elapsedMs, expectedMs } : null;
      }
    } else if (event.kind === "saved") {
      this.savedFrames = Math.min(this.total, this.savedFrames + 1);
      this.startFrame();
    }
    this.fractionAt(now);
  }

  /** 0..1, at this moment (the clock moves the frame in progress along). */
  fractionAt(now = Date.now()): number {
    const clockShare = this.guess ? (this.guess.elapsedMs + now - this.guess.seenAt) / this.guess.expectedMs : 0;
    // A frame is only done once saved: its samples count for at most 99 % of it.
    const current = Math.min(0.99, Math.max(this.sampleShare, clockShare));
    this.reached = Math.max(this.reached, Math.min(1, (this.savedFrames + current) / this.total));
    return this.reached;
  }

  private startFrame() {
    this.sampleShare = 0;
    this.guess = null;
  }
}
