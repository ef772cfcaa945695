import { Link } from "@remix-run/react";
import type { ReactNode } from "react";
import type { RenderDto } from "../../contract";
import { engineLabel } from "../../domain/engines";
import { OUTPUT_FORMAT_LABELS } from "../../domain/output-format";
import { formatDuration, Time } from "./time";

// What a render was asked to be, and who is rendering it.

/** "1–24", "1–24, every 2 frames" or "7". */
function frameText({ frameStart, frameEnd, frameStep }: RenderDto): string {
  if (frameStart === frameEnd) return String(frameStart);
  return `${frameStart}–${frameEnd}${frameStep > 1 ? `, every ${frameStep} frames` : ""}`;
}

/** How long it took, or has been running. */
function tookText(render: RenderDto): string | null {
  if (!render.startedAt) return null;
  const end = render.finishedAt ? Date.parse(render.finishedAt) : null;
  return end === null ? null : formatDuration(end - Date.parse(render.startedAt));
}

/** A value the render set itself, not the file's. */
const set = (value: string, isSet: boolean) => (isSet ? `${value} (set for this render)` : value);

/** What the scene renders as, the render's options applied (null rows while the scene is not read). */
function sceneRows({ scene, options }: RenderDto): [string, string | null][] {
  if (!scene) return [["Scene", "not read yet: the file's own settings apply"]];
  return [
    ["Scene", set(scene.name, options.scene !== null)],
    ["Engine", engineLabel(scene.engine)],
    ["Camera", set(scene.camera ?? "none", options.camera !== null)],
    ["View layers", scene.viewLayers ? set(scene.viewLayers.join(", ") || "none", options.viewLayer !== null) : null],
    ["Samples", scene.samples === null ? null : set(String(scene.samples), options.samples !== null)],
    ["Size", set(`${scene.width}×${scene.height} (${scene.resolutionPercentage} %)`, options.resolutionPercentage !== null)],
  ];
}

/** Label and value pairs; a null value is left out. */
function Rows({ label, rows }: { label: string; rows: [string, ReactNode | null][] }) {
  return (
    <dl aria-label={label} className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
      {rows
        .filter((row): row is [string, ReactNode] => row[1] !== null)
        .map(([name, value]) => (
          <div key={name} className="contents">
            <dt className="text-stone-500">{name}</dt>
            <dd className="min-w-0 wrap-anywhere">{value}</dd>
          </div>
        ))}
    </dl>
  );
}

/** The scene as this render renders it: the file's, with what the render changed marked. */
export function RenderScene({ render }: { render: RenderDto }) {
  return <Rows label="Scene as rendered" rows={sceneRows(render)} />;
}

export function RenderFacts({ render }: { render: RenderDto }) {
  const rows: [string, ReactNode | null][] = [
    ["Frames", frameText(render)],
    ["Per task", `${render.chunkSize} frame${render.chunkSize === 1 ? "" : "s"} (${render.tasks} task${render.tasks === 1 ? "" : "s"})`],
    ["Format", OUTPUT_FORMAT_LABELS[render.format]],
    ["Price", `${render.price.toLocaleString("en")} credits / WU`],
    ["Requested", <Time key="requested" iso={render.createdAt} />],
    ["Started", render.startedAt ? <Time key="started" iso={render.startedAt} /> : null],
    ["Finished", render.finishedAt ? <Time key="finished" iso={render.finishedAt} /> : null],
    ["Took", tookText(render)],
  ];
  return <Rows label="Render details" rows={rows} />;
}

/** What the price means, for people new to the farm. */
export function PriceExplained() {
  return (
    <details className="mt-3 text-sm text-stone-600">
      <summary className="flex min-h-11 cursor-pointer items-center font-medium text-cactus-700">What are WU and the price?</summary>
      <p className="mt-1">
        A work unit (WU) is the work of rendering the farm's reference frame once. Every worker measures how many it renders a
        minute (its WUPM), so a frame's WU is its render minutes × its worker's WUPM, whichever machine rendered it. A frame
        costs its WU times the price. Renders with a higher price per WU are handed out first; your own workers render
        your own renders free.
      </p>
    </details>
  );
}

/** The workers on the render: frames each delivered, and whether it holds a task now. */
export function RenderWorkers({ render }: { render: RenderDto }) {
  if (render.workers.length === 0) {
    return (
      <p className="text-sm text-stone-500">
        No worker has taken a frame yet.{" "}
        <Link to="/workers" className="font-semibold text-cactus-700 underline underline-offset-4">
          Start an agent
        </Link>{" "}
        on one of your machines to render it.
      </p>
    );
  }
  return (
    <ul aria-label="Workers on this render" className="divide-y divide-stone-100">
      {render.workers.map((worker) => (
        <li key={worker.id} className="flex items-center justify-between gap-3 py-2">
          <span className="min-w-0 font-medium wrap-anywhere">{worker.name}</span>
          <span className="flex shrink-0 items-center gap-2 text-sm text-stone-600">
            {worker.framesDone} frame{worker.framesDone === 1 ? "" : "s"}
            {worker.rendering ? (
              <span className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-semibold text-amber-900">rendering</span>
            ) : null}
          </span>
        </li>
      ))}
    </ul>
  );
}
