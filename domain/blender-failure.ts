// Whose fault a failed Blender run is (docs/design.md §5). A scene error — no camera, an
// empty render region, a library the file links that is not there — is the same on every
// worker: the render fails at once, and no worker is blamed for it. Anything else may be
// the machine's — a crash, memory, a missing denoiser or GPU, a broken Blender — and the
// task goes to another worker (the blocklist counts it). When in doubt it is the
// machine's: trying elsewhere costs a worker's time, failing a good render costs the
// artist's. The patterns are Blender 3.4's (captured in agent/fixtures/).

export const FAILURE_BLAMES = ["scene", "machine"] as const;
export type FailureBlame = (typeof FAILURE_BLAMES)[number];

export interface FailureVerdict {
  blame: FailureBlame;
  /** The line of Blender's that decided it, as Blender printed it (null when none did). */
  line: string | null;
  /** For a scene error: what the artist can do about it. */
  advice: string | null;
}

interface Rule {
  pattern: RegExp;
  advice: string;
}

/** Blender's `Error:` lines (the agent sends them without the prefix) that every worker would print alike. */
const SCENE_ERRORS: Rule[] = [
  {
    pattern: /^Cannot render, no camera$|^No camera found in scene/,
    advice: "give the scene a camera in Blender (and make it the scene's camera), or request the render again with --camera NAME",
  },
  {
    pattern: /^All render layers are disabled$/,
    advice: 'turn on "Use for Rendering" for a view layer in Blender, or request the render again with --view-layer NAME',
  },
  {
    pattern: /^Image too small$|^No border area selected/,
    advice: "the render region is empty or the resolution too small: fix it in Blender, or ask for a larger resolution percentage",
  },
  {
    pattern: /^No render output node in scene$|^No node tree in scene$/,
    advice: "add a Composite node to the scene's compositor, or turn Compositing off in the Output properties",
  },
  {
    pattern: /^Border rendering is not supported by sequencer$/,
    advice: "turn off the render region (Render Region), or the sequencer, in Blender",
  },
  {
    // agent/scripts/render.py could not apply the render's options to this scene.
    pattern: /^cactus render settings: /,
    advice: "the render's options do not fit the scene: request it again with a camera, view layer or scene the file has",
  },
];

/** Signs of the machine, wherever they are in the error (they win over a scene error next to them). */
const MACHINE_ERRORS: RegExp[] = [
  /^Blender was killed by SIG/m,
  /^Could not start Blender/m,
  /Build without OpenImageDenoiser|OpenImageDenoise/,
  /out of memory|bad_alloc|cannot allocate|Memory allocation failed/i,
  /\b(CUDA|OptiX|HIP|OpenCL|Metal|oneAPI)\b.*(error|failed)|(error|failed).*\b(CUDA|OptiX|HIP|OpenCL|Metal|oneAPI)\b|no (compatible )?GPU/i,
  /No space left on device|Read-only file system/i,
  /^Cannot read file/m,
  /Unable to open a display|Failed to create .*context|GPU context|EGL.*fail/i,
];

/** Blender's crash handler, in the log: whatever the lines before it say, the process died. */
const CRASH = /^Writing: .*\.crash\.txt$/m;

/** Blender renders on without a library the file links, but what the render fails of is likely it. */
const MISSING_LIBRARIES = /^Warning: \d+ librar(y|ies) and \d+ linked data-blocks? (is|are) missing.*$/m;

/**
 * Why a Blender run failed, from what the agent reported: `error` (Blender's `Error:`
 * lines, then the agent's own reasons: exit code, signal, frames not written) and the
 * end of Blender's log.
 */
export function classifyFailure({ error, logTail }: { error: string; logTail?: string | null }): FailureVerdict {
  const tail = logTail ?? "";
  if (MACHINE_ERRORS.some((pattern) => pattern.test(error)) || CRASH.test(tail)) {
    return { blame: "machine", line: null, advice: null };
  }
  for (const line of error.split("\n").map((each) => each.trim())) {
    const rule = SCENE_ERRORS.find(({ pattern }) => pattern.test(line));
    if (rule) return { blame: "scene", line, advice: rule.advice };
  }
  const libraries = MISSING_LIBRARIES.exec(tail);
  if (libraries) {
    return {
      blame: "scene",
      line: libraries[0].replace(/^Warning: /, "").replace(/, please check .*$/, ""),
      advice: "put the .blend libraries the scene links into a .zip beside it, at the paths it uses, and upload that",
    };
  }
  return { blame: "machine", line: null, advice: null };
}
