import type { WorkerStatus } from "../../contract";

const STYLES: Record<WorkerStatus, string> = {
  idle: "bg-cactus-100 text-cactus-800",
  rendering: "bg-amber-100 text-amber-900",
  sleeping: "bg-sky-100 text-sky-900",
  paused: "bg-violet-100 text-violet-900",
  offline: "bg-stone-100 text-stone-500",
};

export function WorkerStatusBadge({ status, enabled }: { status: WorkerStatus; enabled: boolean }) {
  return (
    <span className="flex shrink-0 flex-wrap justify-end gap-1">
      {enabled ? null : <span className="rounded-full bg-red-100 px-2 py-0.5 text-xs font-semibold text-red-800">disabled</span>}
      <span data-testid="worker-status" className={`rounded-full px-2 py-0.5 text-xs font-semibold ${STYLES[status]}`}>
        {status}
      </span>
    </span>
  );
}

/**
 * "3 min ago", measured against the server's clock as the page was loaded (`now`), so the
 * server and the browser write the same text and a phone's wrong clock changes nothing.
 */
export function seenAgo(lastSeenAt: string | null, now: string): string {
  if (!lastSeenAt) return "never seen";
  const seconds = Math.max(0, Math.round((Date.parse(now) - Date.parse(lastSeenAt)) / 1000));
  if (seconds < 60) return "seen just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `seen ${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `seen ${hours} h ago`;
  return `seen ${Math.floor(hours / 24)} days ago`;
}
