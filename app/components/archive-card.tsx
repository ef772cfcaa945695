import type { ReactNode } from "react";
import type { ArchiveDto } from "../../contract";
import { engineLabel } from "../../domain/engines";
import { formatBytes } from "~/lib/format";
import { Notes } from "./ui";

/**
 * One archive with what is known of it — the header at upload, every fact an agent's
 * inspection found once it read the scene — as a card that fits a phone; then what a
 * render of it as it is would meet (refused, warned). `children` go under it.
 */
export function ArchiveCard({ archive, children }: { archive: ArchiveDto; children?: ReactNode }) {
  const { facts, inspection, sceneCheck } = archive;
  const rows: [string, string | null][] = [
    ["Size", formatBytes(archive.size)],
    ["Blender", facts.blenderVersion],
    ["Compression", facts.compression],
    ["Main .blend", archive.mainPath],
    ["Scene read", inspection.status === "waiting" ? "waiting for one of your agents to read it" : null],
    ["Scene", sceneText(archive)],
    ["Frames", framesText(archive)],
    ["Resolution", resolutionText(archive)],
    ["Engine", engineText(archive)],
    ["Camera", cameraText(archive)],
    ["View layers", facts.viewLayers?.map((layer) => (layer.use ? layer.name : `${layer.name} (off)`)).join(", ") || null],
    ["Output", facts.outputFormat],
    ["Missing files", facts.missingFiles?.length ? String(facts.missingFiles.length) : null],
    ["Python", facts.scripts?.length ? `${facts.scripts.length} (never run on the farm)` : null],
    ["sha256", archive.hash.slice(0, 12)],
  ];
  return (
    <li className="rounded-xl border border-stone-200 bg-white p-4 shadow-sm" aria-label={archive.filename}>
      <div className="mb-2 flex items-start justify-between gap-2">
        <span className="min-w-0 font-semibold break-all">{archive.filename}</span>
        <span className="shrink-0 rounded-full bg-cactus-100 px-2 py-0.5 text-xs font-semibold text-cactus-800 uppercase">
          {archive.kind}
        </span>
      </div>
      <dl aria-label="Scene facts" className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        {rows
          .filter((row): row is [string, string] => row[1] !== null)
          .map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-stone-500">{label}</dt>
              <dd className={`min-w-0 wrap-anywhere ${label === "sha256" ? "font-mono" : ""}`} title={label === "sha256" ? archive.hash : undefined}>
                {value}
              </dd>
            </div>
          ))}
      </dl>
      <div className="mt-3 flex flex-col gap-2 empty:hidden">
        {inspection.status === "failed" ? (
          <Notes kind="refusal" title="Reading the scene failed" items={[inspection.error ?? "Blender could not open the file."]} />
        ) : null}
        <Notes kind="refusal" title="As it is, a render of it is refused:" items={sceneCheck?.refusals ?? []} />
        <Notes kind="warning" title="Before you render:" items={sceneCheck?.warnings ?? []} />
      </div>
      {children}
    </li>
  );
}

function sceneText({ facts }: ArchiveDto): string | null {
  if (!facts.scene) return null;
  const others = (facts.scenes ?? []).map((scene) => scene.name).filter((name) => name !== facts.scene);
  return others.length === 0 ? facts.scene : `${facts.scene} (also in the file: ${others.join(", ")})`;
}

function framesText({ facts }: ArchiveDto): string | null {
  if (facts.frameStart === null || facts.frameEnd === null) return null;
  const step = facts.frameStep && facts.frameStep > 1 ? `, every ${facts.frameStep}` : "";
  return `${facts.frameStart}–${facts.frameEnd}${step}${facts.fps ? ` at ${facts.fps} fps` : ""}`;
}

function resolutionText({ facts }: ArchiveDto): string | null {
  if (!facts.resolutionX || !facts.resolutionY) return null;
  const base = `${facts.resolutionX}×${facts.resolutionY}`;
  const percentage = facts.resolutionPercentage ?? 100;
  const output = facts.outputWidth && facts.outputHeight ? `${facts.outputWidth}×${facts.outputHeight}` : null;
  if (percentage === 100 && (!output || output === base)) return base;
  return `${base} at ${percentage} %${output ? ` → ${output}` : ""}`;
}

function engineText({ facts }: ArchiveDto): string | null {
  if (!facts.engine) return null;
  const parts = [engineLabel(facts.engine)];
  if (facts.samples !== null && facts.engine !== "BLENDER_WORKBENCH") parts.push(`${facts.samples} samples`);
  if (facts.denoising) parts.push("denoising");
  return parts.join(" · ");
}

function cameraText({ facts }: ArchiveDto): string | null {
  if (facts.cameraObjects === null && facts.activeCamera === null) return null;
  const others = (facts.cameraObjects ?? []).filter((name) => name !== facts.activeCamera);
  const active = facts.activeCamera ?? "none set";
  return others.length === 0 ? active : `${active} (cameras in the file: ${others.join(", ")})`;
}
