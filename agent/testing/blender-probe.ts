import { type BlenderResult, type BlenderRunner, runBlender } from "../blender";
import type { BlenderFiles } from "../sandbox";

// The sandbox tests' way in: Python run by Blender's own interpreter through the agent's
// runner, standing for what a .blend could do if it ever got code to run (a bug in
// Blender's file reader, a driver that slipped through). Test-only: the agent never runs
// code it did not ship, and the server never sends any.

export interface Attempt {
  ok: boolean;
  value?: unknown;
  error?: string;
}
export type Attempts = Record<string, Attempt>;

/**
 * The probe's frame: `params` (the JSON after `--`), `attempt(name, fn)` records what fn
 * returned or raised, and the attempts are printed as one line when the probe's own code
 * is done.
 */
const FRAME = `
import json, os, sys
params = json.loads(sys.argv[sys.argv.index("--") + 1])
attempts = {}
def attempt(name, fn):
    try:
        attempts[name] = {"ok": True, "value": fn()}
    except BaseException as error:
        attempts[name] = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
`;
const DONE = `\nprint("CACTUS_PROBE " + json.dumps(attempts, default=str), flush=True)\n`;

export interface ProbeRun {
  blender: string;
  runner: BlenderRunner;
  /** Python run after FRAME: calls attempt() for each thing it tries. */
  code: string;
  params?: unknown;
  files?: BlenderFiles;
  signal?: AbortSignal;
}

export function probeArgv(code: string, params: unknown = {}): string[] {
  return ["-b", "--factory-startup", "--disable-autoexec", "--python-expr", FRAME + code + DONE, "--", JSON.stringify(params)];
}

/** Runs the probe in Blender; its attempts, and Blender's run for when they are missing. */
export async function probeBlender({ blender, runner, code, params, files, signal }: ProbeRun): Promise<{ attempts: Attempts; run: BlenderResult }> {
  const run = await runBlender({ blender, argv: probeArgv(code, params), files, runner, signal });
  const line = run.logTail.find((printed) => printed.startsWith("CACTUS_PROBE "));
  if (!line) throw new Error(`The probe printed nothing (${run.errors.join(" ")}):\n${run.logTail.slice(-20).join("\n")}`);
  return { attempts: JSON.parse(line.slice("CACTUS_PROBE ".length)) as Attempts, run };
}
