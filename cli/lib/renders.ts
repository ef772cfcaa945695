import type { OutputFormat, RenderDto } from "../../contract";
import { engineLabel } from "../../domain/engines";
import { formatFrameRange } from "../../domain/frames";
import { UsageError } from "./errors";
import { formatTime } from "./output";
import { describeEstimate, noEstimateYet } from "./work-units";

/** What `--format` takes: the names people use, and Blender's own. */
const FORMATS: Record<string, OutputFormat> = {
  png: "PNG",
  jpeg: "JPEG",
  jpg: "JPEG",
  exr: "OPEN_EXR",
  open_exr: "OPEN_EXR",
  openexr: "OPEN_EXR",
};

export function parseFormat(value: string): OutputFormat {
  const format = FORMATS[value.trim().toLowerCase()];
  if (!format) throw new UsageError(`--format ${value} is not one the workers write; use png, jpeg or exr`);
  return format;
}

/** An archive by id (digits) or by its sha256 (64 hex digits). */
export function parseArchiveRef(value: string): { archiveId: number } | { archiveHash: string } {
  const text = String(value).trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return { archiveHash: text.toLowerCase() };
  if (/^[1-9]\d*$/.test(text)) return { archiveId: Number(text) };
  throw new UsageError(`--archive takes an archive id (like 7) or its sha256; got "${text}". \`cactus archive list -p PROJECT\` shows them`);
}

export function frameRange(render: Pick<RenderDto, "frameStart" | "frameEnd" | "frameStep">): string {
  return formatFrameRange({ start: render.frameStart, end: render.frameEnd, step: render.frameStep });
}

const BAR = 24;

/** A render as a few lines for a person: what, how far, who. */
export function describeRender(render: RenderDto): string {
  const { frames } = render;
  const filled = frames.total === 0 ? 0 : Math.round((frames.done / frames.total) * BAR);
  const lines = [
    `Render ${render.id} · ${render.archiveFilename} · ${render.status}`,
    `frames ${frameRange(render)} · ${render.format} · chunk ${render.chunkSize} · price ${render.price} · requested ${formatTime(render.createdAt)}`,
    `${"█".repeat(filled)}${"░".repeat(BAR - filled)} ${frames.done}/${frames.total} done · ${frames.rendering} rendering · ` +
      `${frames.queued} queued · ${frames.failed} failed`,
  ];
  if (render.scene) {
    const { scene, options } = render;
    const set = (value: string, isSet: boolean) => (isSet ? `${value}*` : value);
    lines.push(
      `scene ${set(scene.name, options.scene !== null)} · ${engineLabel(scene.engine)}` +
        (scene.samples === null ? "" : ` ${set(String(scene.samples), options.samples !== null)} samples`) +
        ` · ${set(`${scene.width}×${scene.height} (${scene.resolutionPercentage} %)`, options.resolutionPercentage !== null)}` +
        ` · camera ${set(scene.camera ?? "none", options.camera !== null)}` +
        (scene.viewLayers ? ` · view layers ${set(scene.viewLayers.join(", ") || "none", options.viewLayer !== null)}` : "") +
        (Object.values(options).some((value) => value !== null) ? " (* set for this render)" : ""),
    );
  }
  if (render.estimate) lines.push(`estimate: ${describeEstimate(render.estimate, render.price, render.status)}`);
  else if (render.status === "estimating") lines.push(noEstimateYet(render));
  if (render.status === "quoted") {
    // A short quote-first render may have had every frame as a sample: confirming only accepts the quote.
    const rest = frames.done < frames.total ? "renders the rest" : "accepts the quote: every frame is already rendered";
    lines.push(`quoted: \`cactus render confirm ${render.id}\` ${rest}`);
  }
  if (render.workers.length > 0) {
    const workers = render.workers.map((worker) => `${worker.name} ${worker.framesDone}${worker.rendering ? " (rendering)" : ""}`);
    lines.push(`workers: ${workers.join(", ")}`);
  }
  if (render.failure) lines.push(`failed: ${render.failure}`);
  if (render.waiting) lines.push(`waiting: ${render.waiting}`);
  for (const warning of render.warnings) lines.push(`warning: ${warning}`);
  return lines.join("\n");
}
