import type { ArchiveDto } from "../../contract";
import { engineHasSamples, engineLabel } from "../../domain/engines";
import { formatFrameRange } from "../../domain/frames";

// An archive's scene facts as the CLI shows them: short cells for `archive list`, lines
// for `archive show`.

type Facts = ArchiveDto["facts"];
type SceneFacts = NonNullable<Facts["scenes"]>[number];

/** "Cycles", "Eevee"…, or "-" before the scene is read. */
export function engineCell({ engine }: Facts): string {
  return engine ? engineLabel(engine) : "-";
}

/** The size of the frames it writes: "960×540", or the resolution when that is all there is. */
export function resolutionCell(facts: Facts): string {
  if (facts.outputWidth && facts.outputHeight) return `${facts.outputWidth}×${facts.outputHeight}`;
  if (facts.resolutionX && facts.resolutionY) return `${facts.resolutionX}×${facts.resolutionY}`;
  return "-";
}

export function framesCell({ frameStart, frameEnd, frameStep }: Facts): string {
  if (frameStart === null || frameEnd === null) return "-";
  return formatFrameRange({ start: frameStart, end: frameEnd, step: frameStep ?? 1 });
}

/** One scene in a line: frames, fps, size, engine, samples, camera, view layers. */
function sceneLine(scene: SceneFacts): string {
  const size = `${scene.resolutionX}×${scene.resolutionY}`;
  const output = `${scene.outputWidth}×${scene.outputHeight}`;
  const parts = [
    `frames ${formatFrameRange({ start: scene.frameStart, end: scene.frameEnd, step: Math.max(1, scene.frameStep) })} at ${scene.fps} fps`,
    scene.resolutionPercentage === 100 && size === output ? size : `${size} at ${scene.resolutionPercentage} % → ${output}`,
    [
      engineLabel(scene.engine),
      ...(scene.samples !== null && engineHasSamples(scene.engine) ? [`${scene.samples} samples`] : []),
      ...(scene.denoising ? ["denoising"] : []),
    ].join(", "),
    `output ${scene.outputFormat}`,
  ];
  const layers = scene.viewLayers.map((layer) => (layer.use ? layer.name : `${layer.name} (off)`)).join(", ");
  return [
    parts.join(" · "),
    `camera: ${scene.activeCamera ?? "none set"}${scene.cameras.length > 0 ? ` (in the scene: ${scene.cameras.join(", ")})` : ""}`,
    `view layers: ${layers || "none"}`,
  ].join("\n    ");
}

/** Everything inspection found, then what a render of the file as it is would meet. */
export function describeArchive(archive: ArchiveDto, kind: string, size: string): string {
  const { facts, inspection, sceneCheck } = archive;
  const lines = [
    `Archive ${archive.id} · ${archive.filename} · ${kind} · ${size} · Blender ${facts.blenderVersion ?? "?"} · sha256 ${archive.hash}`,
  ];
  if (inspection.status === "waiting") {
    lines.push("Scene: not read yet; one of your agents reads it when it next asks for work (`cactus worker list`).");
    return lines.join("\n");
  }
  if (inspection.status === "failed") {
    lines.push(`Scene: reading it failed: ${inspection.error}`);
    return lines.join("\n");
  }
  for (const scene of facts.scenes ?? []) {
    lines.push(`Scene "${scene.name}"${scene.name === facts.scene ? " (rendered unless a render names another)" : ""}:`, `    ${sceneLine(scene)}`);
  }
  const others = (facts.cameraObjects ?? []).join(", ");
  lines.push(`Cameras in the file: ${others || "none"}`);
  const list = (title: string, items: string[] | null) => {
    if (items && items.length > 0) lines.push(`${title} (${items.length}):`, ...items.map((item) => `    ${item}`));
  };
  list("Missing files", facts.missingFiles);
  list("Python the farm never runs", facts.scripts);
  list("A render as it is would be refused", sceneCheck?.refusals ?? null);
  list("Warnings", sceneCheck?.warnings ?? null);
  if (sceneCheck && sceneCheck.refusals.length === 0) lines.push(`Ready to render: \`cactus render request --archive ${archive.id}\`.`);
  return lines.join("\n");
}
