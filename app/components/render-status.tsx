import type { RenderStatus } from "../../contract";

// A render's status as people read it, in one colour per kind of state: moving (amber),
// finished well (green), stopped by someone (grey), gone wrong (red).

const LABELS: Record<RenderStatus, string> = {
  estimating: "Estimating",
  quoted: "Quoted",
  queued: "Queued",
  rendering: "Rendering",
  done: "Done",
  paused: "Paused",
  cancelled: "Cancelled",
  failed: "Failed",
  "needs-credits": "Needs credits",
};

const STYLES: Record<RenderStatus, string> = {
  estimating: "bg-sky-100 text-sky-900",
  quoted: "bg-sky-100 text-sky-900",
  queued: "bg-stone-100 text-stone-700",
  rendering: "bg-amber-100 text-amber-900",
  done: "bg-cactus-100 text-cactus-800",
  paused: "bg-stone-200 text-stone-700",
  cancelled: "bg-stone-100 text-stone-500",
  failed: "bg-red-100 text-red-800",
  "needs-credits": "bg-red-100 text-red-800",
};

export function RenderStatusBadge({ status }: { status: RenderStatus }) {
  return (
    <span data-testid="render-status" className={`shrink-0 rounded-full px-2 py-0.5 text-xs font-semibold ${STYLES[status]}`}>
      {LABELS[status]}
    </span>
  );
}
