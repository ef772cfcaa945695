import { Link } from "@remix-run/react";
import type { RenderDto } from "../../contract";
import { formatDuration, formatWu } from "../../domain/work-units";
import { FrameCountsText, FrameProgressBar } from "./progress-bar";
import { RenderStatusBadge } from "./render-status";

/** One render in the list, a link to its page. */
export function RenderCard({ render }: { render: RenderDto }) {
  return (
    <li aria-label={`Render ${render.id}`} className="rounded-xl border border-stone-200 bg-white shadow-sm">
      <Link to={`/renders/${render.id}`} className="flex flex-col gap-2 p-4">
        <span className="flex items-start justify-between gap-2">
          <span className="min-w-0">
            <span className="block font-semibold break-all">{render.archiveFilename}</span>
            <span className="text-xs text-stone-600">Render {render.id}</span>
          </span>
          <RenderStatusBadge status={render.status} />
        </span>
        <FrameProgressBar frames={render.frames} label={`Render ${render.id} frames done`} />
        <span className="text-sm text-stone-600">
          <FrameCountsText frames={render.frames} />
          {render.estimate ? (
            <span data-testid="render-estimate">
              {` · ${formatWu(render.estimate.totalWu)} WU`}
              {render.estimate.etaSeconds !== null && render.estimate.etaSeconds > 0 ? ` · about ${formatDuration(render.estimate.etaSeconds)} left` : ""}
            </span>
          ) : null}
        </span>
      </Link>
    </li>
  );
}
