import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import {
  type BlenderEvent,
  type BlenderProcess,
  type BlenderRunner,
  BlenderProgress,
  blenderArgv,
  detectBlender,
  framePaths,
  inspectArgv,
  parseBlenderLine,
  runBlender,
  scripts,
} from "./blender";

// Output captured from Debian's Blender 3.4.1 rendering tests/scenes/make-scene.py scenes.
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8").split("\n");
const events = (lines: string[]) => lines.map(parseBlenderLine).filter((event): event is BlenderEvent => event !== null);
const ofKind = <K extends BlenderEvent["kind"]>(list: BlenderEvent[], kind: K) =>
  list.filter((event): event is Extract<BlenderEvent, { kind: K }> => event.kind === kind);

const job = {
  blendFile: "/cache/abc/shot.blend",
  outputDir: "/tmp/task-7",
  format: "PNG" as const,
  frameStart: 12,
  frameEnd: 12,
  threads: 4,
};

describe("blenderArgv", () => {
  test("one frame: autoexec off, the agent's script, then output and frame", () => {
    expect(blenderArgv(job)).toEqual([
      "-b",
      "--factory-startup",
      "--disable-autoexec",
      "/cache/abc/shot.blend",
      "--python-expr",
      scripts.render,
      "-o",
      "/tmp/task-7/frame_#####",
      "-F",
      "PNG",
      "-x",
      "1",
      "-t",
      "4",
      "-f",
      "12",
    ]);
  });

  test("a chunk renders -s A -e B -a, in the format asked", () => {
    const argv = blenderArgv({ ...job, format: "OPEN_EXR", frameStart: 3, frameEnd: 8, threads: 0 });
    expect(argv.slice(6)).toEqual(["-o", "/tmp/task-7/frame_#####", "-F", "OPEN_EXR", "-x", "1", "-t", "0", "-s", "3", "-e", "8", "-a"]);
  });

  test("the only Python is the agent's own: no file script, no autoexec switch", () => {
    for (const argv of [blenderArgv(job), inspectArgv(job.blendFile)]) {
      expect(argv.slice(0, 3)).toEqual(["-b", "--factory-startup", "--disable-autoexec"]);
      expect(argv.filter((arg) => ["-P", "--python", "-y", "--enable-autoexec", "--python-text"].includes(arg))).toEqual([]);
      expect(argv.filter((arg) => arg === "--python-expr")).toHaveLength(1);
      expect([scripts.render, scripts.inspect]).toContain(argv[argv.indexOf("--python-expr") + 1]);
    }
  });

  test("the runner gets exactly that argv", async () => {
    const calls: Array<{ blender: string; argv: readonly string[] }> = [];
    const runner: BlenderRunner = (blender, argv) => {
      calls.push({ blender, argv });
      return fakeBlender({ lines: [] }).process;
    };
    const argv = blenderArgv(job);
    await runBlender({ blender: "/opt/blender/blender", argv, runner });
    expect(calls).toEqual([{ blender: "/opt/blender/blender", argv }]);
  });

  test.each([
    ["a relative blend file", { blendFile: "shot.blend" }, /absolute path/],
    ["a blend file that looks like an option", { blendFile: "-y" }, /absolute path/],
    ["a relative output dir", { outputDir: "//frames" }, /absolute path/],
    ["# in the output dir", { outputDir: "/tmp/take#2" }, /frame number/],
    ["a reversed range", { frameStart: 9, frameEnd: 3 }, /not a range/],
    ["a fractional frame", { frameStart: 1.5 }, /not a range/],
    ["negative threads", { threads: -1 }, /Threads/],
  ])("refuses %s", (_name, change, message) => {
    expect(() => blenderArgv({ ...job, ...change })).toThrow(message);
  });
});

describe("framePaths", () => {
  test("Blender's padding and extension for each format", () => {
    expect(framePaths({ outputDir: "/o", format: "PNG", frameStart: 9, frameEnd: 10 })).toEqual([
      "/o/frame_00009.png",
      "/o/frame_00010.png",
    ]);
    expect(framePaths({ outputDir: "/o", format: "JPEG", frameStart: 123456, frameEnd: 123456 })).toEqual([
      "/o/frame_123456.jpg",
    ]);
    expect(framePaths({ outputDir: "/o", format: "OPEN_EXR", frameStart: -2, frameEnd: -2 })).toEqual(["/o/frame_-0002.exr"]);
  });
});

describe("parseBlenderLine on Blender 3.4 output", () => {
  test("Cycles, frames 1-2: statuses, samples, saved files and their times", () => {
    const list = events(fixture("cycles-frames-1-2.txt"));
    expect(ofKind(list, "settings")).toEqual([
      { kind: "settings", settings: { scene: "Scene", engine: "CYCLES", width: 64, height: 48, mutedFileOutputs: [] } },
    ]);
    const statuses = ofKind(list, "status");
    expect(new Set(statuses.map((status) => status.frame))).toEqual(new Set([1, 2]));
    expect(statuses.filter((status) => status.samplesTotal !== null).map((s) => `${s.frame}:${s.samplesDone}/${s.samplesTotal}`))
      .toEqual(["1:0/4", "1:1/4", "1:4/4", "2:0/4", "2:1/4", "2:4/4"]);
    expect(ofKind(list, "saved").map((saved) => saved.path)).toEqual([
      "/tmp/cactus/out/frame_00001.png",
      "/tmp/cactus/out/frame_00002.png",
    ]);
    expect(ofKind(list, "frameTime")).toEqual([{ kind: "frameTime", ms: 160 }, { kind: "frameTime", ms: 0 }]);
    expect(ofKind(list, "error")).toEqual([]);
  });

  test("Cycles: the elapsed time and the Remaining: guess of a status line", () => {
    const line = fixture("cycles-150-samples-frame-5.txt").find((text) => text.includes("Remaining:"))!;
    expect(parseBlenderLine(line)).toEqual({
      kind: "status",
      frame: 5,
      elapsedMs: 50,
      remainingMs: 2590,
      samplesDone: 1,
      samplesTotal: 150,
      message: "Sample 1/150",
    });
  });

  test("EEVEE counts samples as 'Rendering X / Y samples'; its EGL noise is no error", () => {
    const list = events(fixture("eevee-frame-1.txt"));
    expect(ofKind(list, "status").filter((s) => s.samplesTotal).map((s) => [s.samplesDone, s.samplesTotal])).toEqual([
      [1, 4],
      [4, 4],
    ]);
    expect(ofKind(list, "saved")).toHaveLength(1);
    expect(ofKind(list, "error")).toEqual([]);
  });

  test("Workbench prints no Fra: lines, only Saved:", () => {
    const list = events(fixture("workbench-frame-1.txt"));
    expect(ofKind(list, "status")).toEqual([]);
    expect(ofKind(list, "saved")).toEqual([{ kind: "saved", path: "/tmp/cactus/out/frame_00001.jpg" }]);
  });

  test("a scene that denoises, on a Blender without OpenImageDenoise", () => {
    expect(ofKind(events(fixture("cycles-denoise-unavailable.txt")), "error")).toEqual([
      { kind: "error", message: "Build without OpenImageDenoiser" },
    ]);
  });

  test("a file Blender cannot read", () => {
    expect(ofKind(events(fixture("missing-file.txt")), "error")).toEqual([
      { kind: "error", message: "Cannot read file '/tmp/cactus/missing.blend': No such file or directory" },
    ]);
  });

  test("the agent scripts' JSON lines; a broken one is ignored", () => {
    expect(parseBlenderLine('CACTUS_FACTS {"frameStart": 1}')).toEqual({ kind: "facts", facts: { frameStart: 1 } });
    expect(parseBlenderLine('CACTUS_BLENDER {"version": "3.4.1", "denoiser": false}')).toEqual({
      kind: "blender",
      info: { version: "3.4.1", denoiser: false },
    });
    expect(parseBlenderLine("CACTUS {not json}")).toBeNull();
    expect(parseBlenderLine("Read blend: /tmp/x.blend")).toBeNull();
  });

  test("hours in a frame time; a Windows line end", () => {
    expect(parseBlenderLine(" Time: 1:02:03.50 (Saving: 00:01.00)")).toEqual({ kind: "frameTime", ms: 3_723_500 });
    expect(parseBlenderLine("Error: boom\r")).toEqual({ kind: "error", message: "boom" });
  });
});

describe("BlenderProgress", () => {
  test("a Cycles chunk of two frames: half when the first is saved, whole at the end", () => {
    const progress = new BlenderProgress({ frameStart: 1, frameEnd: 2 });
    const seen: number[] = [];
    for (const event of events(fixture("cycles-frames-1-2.txt"))) {
      progress.update(event, 0);
      seen.push(progress.fractionAt(0));
      if (event.kind === "saved" && event.path.endsWith("00001.png")) expect(progress.fractionAt(0)).toBe(0.5);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(1);
    expect(progress.frame).toBe(2);
  });

  test("between Cycles' sample lines the clock moves the frame along its Remaining: guess", () => {
    const progress = new BlenderProgress({ frameStart: 5, frameEnd: 5 });
    const list = events(fixture("cycles-150-samples-frame-5.txt"));
    const guess = list.findIndex((event) => event.kind === "status" && event.remainingMs !== null);
    for (const event of list.slice(0, guess + 1)) progress.update(event, 1000);
    // 50 ms done of 2640 expected, then 1270 ms later: half of the frame.
    expect(progress.fractionAt(1000 + 1270)).toBeCloseTo(0.5, 2);
    expect(progress.fractionAt(1000 + 60_000)).toBe(0.99);
    for (const event of list.slice(guess + 1)) progress.update(event, 70_000);
    expect(progress.fractionAt(70_000)).toBe(1);
  });

  test("a second view layer restarting the samples does not go back", () => {
    const progress = new BlenderProgress({ frameStart: 1, frameEnd: 1 });
    const status = (done: number) =>
      ({ kind: "status", frame: 1, elapsedMs: 0, remainingMs: null, samplesDone: done, samplesTotal: 10, message: "" }) as const;
    progress.update(status(8), 0);
    progress.update(status(2), 0);
    expect(progress.fractionAt(0)).toBe(0.8);
  });

  test("Workbench: frames count as they are saved", () => {
    const progress = new BlenderProgress({ frameStart: 1, frameEnd: 4 });
    progress.update({ kind: "saved", path: "/o/frame_00001.png" }, 0);
    expect(progress.fractionAt(0)).toBe(0.25);
  });
});

/** A Blender that prints `lines`, then exits — or hangs until a signal it obeys. */
function fakeBlender({
  lines,
  exitCode = 0,
  hangs = false,
  obeys = ["SIGTERM", "SIGKILL"],
}: {
  lines: string[];
  exitCode?: number;
  hangs?: boolean;
  obeys?: NodeJS.Signals[];
}) {
  const kills: NodeJS.Signals[] = [];
  let end: (exit: { exitCode: number | null; signal: string | null }) => void = () => {};
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => (end = resolve));
  async function* output() {
    yield* lines;
    if (hangs) await exited;
    else end({ exitCode, signal: null });
  }
  const process: BlenderProcess = {
    lines: output(),
    exited,
    kill(signal) {
      kills.push(signal);
      if (obeys.includes(signal)) end({ exitCode: null, signal });
    },
  };
  return { process, kills, runner: (() => process) as BlenderRunner };
}

describe("runBlender", () => {
  const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), "cactus-run-"));

  test("success is exit 0 and every expected file on disk", async () => {
    const dir = await tempDir();
    const expectedFiles = framePaths({ outputDir: dir, format: "PNG", frameStart: 1, frameEnd: 2 });
    await fs.writeFile(expectedFiles[0], "x");
    const lines = expectedFiles.flatMap((file) => [`Saved: '${file}'`, " Time: 00:01.50 (Saving: 00:00.10)"]);
    const seen: BlenderEvent[] = [];

    const missing = await runBlender({ blender: "b", argv: [], expectedFiles, runner: fakeBlender({ lines }).runner });
    expect(missing.ok).toBe(false);
    expect(missing.errors).toEqual(["Blender did not write frame_00002.png."]);

    await fs.writeFile(expectedFiles[1], "x");
    const done = await runBlender({
      blender: "b",
      argv: [],
      expectedFiles,
      onEvent: (event) => seen.push(event),
      runner: fakeBlender({ lines }).runner,
    });
    expect(done).toMatchObject({ ok: true, exitCode: 0, errors: [], savedFiles: expectedFiles });
    expect(done.renderTimesMs).toEqual({ [expectedFiles[0]]: 1500, [expectedFiles[1]]: 1500 });
    expect(seen.map((event) => event.kind)).toEqual(["saved", "frameTime", "saved", "frameTime"]);
    await fs.rm(dir, { recursive: true });
  });

  test("a failure carries Blender's Error: lines, the exit code and the last 200 lines", async () => {
    const lines = [...Array.from({ length: 250 }, (_, index) => `line ${index}`), "Error: Build without OpenImageDenoiser"];
    const result = await runBlender({ blender: "b", argv: [], runner: fakeBlender({ lines, exitCode: 1 }).runner });
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual(["Build without OpenImageDenoiser", "Blender exited with code 1."]);
    expect(result.logTail).toHaveLength(200);
    expect(result.logTail[0]).toBe("line 51");
    expect(result.logTail.at(-1)).toBe("Error: Build without OpenImageDenoiser");
  });

  test("cancelling sends SIGTERM, then SIGKILL when Blender does not stop", async () => {
    const stubborn = fakeBlender({ lines: ["Fra:1 Mem:1M | Time:00:00.00 | Sample 1/4"], hangs: true, obeys: ["SIGKILL"] });
    const controller = new AbortController();
    const running = runBlender({ blender: "b", argv: [], signal: controller.signal, runner: stubborn.runner, killGraceMs: 50 });
    controller.abort();
    const result = await running;
    expect(stubborn.kills).toEqual(["SIGTERM", "SIGKILL"]);
    expect(result).toMatchObject({ ok: false, cancelled: true, signal: "SIGKILL", errors: ["Cancelled: Blender was stopped."] });
  });

  test("a Blender that stops on SIGTERM is not killed again", async () => {
    const polite = fakeBlender({ lines: [], hangs: true });
    const controller = new AbortController();
    const running = runBlender({ blender: "b", argv: [], signal: controller.signal, runner: polite.runner, killGraceMs: 20 });
    controller.abort();
    await running;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(polite.kills).toEqual(["SIGTERM"]);
  });

  test("a listener that throws stops Blender, and runBlender rethrows once it has exited", async () => {
    const fake = fakeBlender({ lines: ["Saved: '/o/frame_00001.png'", "Saved: '/o/frame_00002.png'"], hangs: true });
    const running = runBlender({
      blender: "b",
      argv: [],
      runner: fake.runner,
      onEvent: () => {
        throw new Error("upload failed");
      },
    });
    await expect(running).rejects.toThrow("upload failed");
    expect(fake.kills).toEqual(["SIGTERM"]);
  });

  test("a Blender that cannot start says so", async () => {
    const result = await runBlender({ blender: "/nowhere/blender", argv: ["-b"] });
    expect(result.ok).toBe(false);
    expect(result.errors[0]).toMatch(/^Could not start Blender \(\/nowhere\/blender\): .*ENOENT/);
  });
});

describe("detectBlender", () => {
  test("runs the detect script and reads its line", async () => {
    let argv: readonly string[] = [];
    const runner: BlenderRunner = (_blender, given) => {
      argv = given;
      return fakeBlender({ lines: ["Blender 3.4.1", 'CACTUS_BLENDER {"version": "3.4.1", "denoiser": false}'] }).process;
    };
    expect(await detectBlender("blender", { runner })).toEqual({ version: "3.4.1", hasDenoiser: false });
    expect(argv).toEqual(["-b", "--factory-startup", "--disable-autoexec", "--python-expr", scripts.detect]);
  });

  test("a program that is not Blender", async () => {
    const runner = fakeBlender({ lines: ["hello"], exitCode: 0 }).runner;
    await expect(detectBlender("/usr/bin/echo", { runner })).rejects.toThrow(/does not run as Blender.*CACTUS_BLENDER/);
  });
});
