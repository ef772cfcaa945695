import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { classifyFailure } from "./blender-failure";

// Real Blender 3.4.1 output (agent/fixtures/), as the agent reports a failed run: Blender's
// `Error:` lines without the prefix, then its own reasons, and the log's end.
function reported(fixture: string, reasons: string[]) {
  const log = readFixture(fixture);
  const errors = log
    .split("\n")
    .filter((line) => line.startsWith("Error: "))
    .map((line) => line.slice("Error: ".length));
  return { error: [...errors, ...reasons].join("\n"), logTail: log };
}

describe("scene errors: every worker would fail alike", () => {
  test("no camera (exit 1)", () => {
    expect(classifyFailure(reported("scene-no-camera.txt", ["Blender exited with code 1.", "Blender did not write frame_00001.png."]))).toEqual({
      blame: "scene",
      line: "Cannot render, no camera",
      advice: expect.stringMatching(/camera.*--camera NAME/),
    });
  });

  test("an empty render region: Blender says so and exits 0 without an image", () => {
    expect(classifyFailure(reported("scene-empty-render-region.txt", ["Blender did not write frame_00001.png."]))).toMatchObject({
      blame: "scene",
      line: "Image too small",
    });
  });

  test("the agent's script could not apply the render's options", () => {
    expect(classifyFailure(reported("scene-settings-unknown-camera.txt", ["Blender exited with code 3."]))).toMatchObject({
      blame: "scene",
      line: 'cactus render settings: the file has no camera object "Nope"',
      advice: expect.stringMatching(/options do not fit the scene/),
    });
  });

  test("a library the file links is missing, and the run then failed: the library is named", () => {
    // Blender 3.4 renders on with a placeholder (this capture saved its frame): only a run
    // that failed with nothing else to blame puts it on the library.
    const verdict = classifyFailure(reported("missing-library-placeholder.txt", ["Blender did not write frame_00002.png."]));
    expect(verdict).toEqual({
      blame: "scene",
      line: "1 libraries and 1 linked data-blocks are missing (including 0 ObjectData and 0 Proxies)",
      advice: expect.stringMatching(/libraries .* into a \.zip/),
    });
  });
});

describe("machine errors: another worker may do better", () => {
  test("Cycles without OpenImageDenoise", () => {
    expect(classifyFailure(reported("cycles-denoise-unavailable.txt", ["Blender exited with code 1."]))).toEqual({
      blame: "machine",
      line: null,
      advice: null,
    });
  });

  test("a crash: Blender's crash handler wrote its report", () => {
    expect(classifyFailure(reported("eevee-crash-sigsegv.txt", ["Blender was killed by SIGSEGV."])).blame).toBe("machine");
    // Even without the agent's word for it, the crash report in the log says so.
    expect(classifyFailure({ error: "Blender did not write frame_00001.png.", logTail: readFixture("eevee-crash-sigsegv.txt") }).blame).toBe(
      "machine",
    );
  });

  test("killed by the kernel's OOM killer (SIGKILL), or out of memory in Blender's words", () => {
    expect(classifyFailure({ error: "Blender was killed by SIGKILL.", logTail: "" }).blame).toBe("machine");
    expect(classifyFailure({ error: "System is out of GPU and shared host memory\nBlender exited with code 1." }).blame).toBe("machine");
    expect(classifyFailure({ error: "CUDA error: Out of memory in cuMemAlloc(&device_pointer, size)" }).blame).toBe("machine");
  });

  test("the agent's copy of the archive cannot be read", () => {
    expect(classifyFailure(reported("missing-file.txt", ["Blender exited with code 1."])).blame).toBe("machine");
  });

  test("a machine sign wins over a scene error next to it", () => {
    expect(classifyFailure({ error: "Cannot render, no camera\nBlender was killed by SIGKILL." }).blame).toBe("machine");
  });

  test("what nobody recognises is the machine's: trying elsewhere is cheaper than failing a good render", () => {
    expect(classifyFailure({ error: "Blender exited with code 1.", logTail: "something new\n" })).toEqual({
      blame: "machine",
      line: null,
      advice: null,
    });
    expect(classifyFailure({ error: "Blender failed without saying why." }).blame).toBe("machine");
  });
});

function readFixture(name: string) {
  return readFileSync(path.resolve(import.meta.dirname, "../agent/fixtures", name), "utf8");
}
