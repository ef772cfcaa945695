import { Link } from "@remix-run/react";
import type { RenderDto } from "../../contract";
import { OUTPUT_FORMAT_LABELS } from "../../domain/output-format";

// What a render was asked to be, and who is rendering it.

/** "2025-03-14 09:30 UTC": the same text on the server and in the browser, so hydration agrees. */
export const minute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** "1–24", "1–24, every 2 frames" or "7". */
function frameText({ frameStart, frameEnd, frameStep }: RenderDto): string {
  if (frameStart === frameEnd) return String(frameStart);
  return `${frameStart}–${frameEnd}${frameStep > 1 ? `, every ${frameStep} frames` : ""}`;
}

export function RenderFacts({ render }: { render: RenderDto }) {
  const rows: [string, string | null][] = [
    ["Frames", frameText(render)],
    ["Per task", `${render.chunkSize} frame${render.chunkSize === 1 ? "" : "s"} (${render.tasks} task${render.tasks === 1 ? "" : "s"})`],
    ["Format", OUTPUT_FORMAT_LABELS[render.format]],
    ["Price", `${render.price.toLocaleString("en")} credits / WU`],
    ["Requested", minute(render.createdAt)],
    ["Started", render.startedAt ? minute(render.startedAt) : null],
    ["Finished", render.finishedAt ? minute(render.finishedAt) : null],
  ];
  return (
    <dl aria-label="Render details" className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
      {rows
        .filter((row): row is [string, string] => row[1] !== null)
        .map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="text-stone-500">{label}</dt>
            <dd className="min-w-0 wrap-anywhere">{value}</dd>
          </div>
        ))}
    </dl>
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
