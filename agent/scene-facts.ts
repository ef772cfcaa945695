import { type SceneFacts, sceneFactsSchema } from "../contract/agent";
import path from "node:path";
import { type BlenderRunner, inspectArgv, runBlender } from "./blender";

export type InspectionOutcome =
  | { ok: true; facts: SceneFacts }
  | { ok: false; error: string; logTail: string[] };

/**
 * A file's scene facts, read by Blender with autoexec off and the agent's own script
 * (agent/scripts/inspect.py). A file Blender cannot open is an outcome, not a throw: the
 * server records why, for the person who uploaded it.
 */
export async function inspectScene({
  blender,
  blendFile,
  archiveDir = path.dirname(blendFile),
  runner,
  signal,
}: {
  blender: string;
  blendFile: string;
  /** The archive's folder: the only files Blender may read in its sandbox. */
  archiveDir?: string;
  runner?: BlenderRunner;
  signal?: AbortSignal;
}): Promise<InspectionOutcome> {
  const result = await runBlender({ blender, argv: inspectArgv(blendFile), files: { readOnly: [archiveDir] }, runner, signal });
  const parsed = sceneFactsSchema.safeParse(result.facts);
  if (result.ok && parsed.success) return { ok: true, facts: parsed.data };
  const error =
    result.errors.join("\n") ||
    (result.facts === null
      ? "Blender printed no scene facts."
      : `The scene facts Blender printed do not fit: ${parsed.error?.message}`);
  return { ok: false, error, logTail: result.logTail };
}
