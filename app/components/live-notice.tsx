import type { Connection } from "./render-live";

/** Says so while a live page's updates are cut off; they resume by themselves. */
export function LiveNotice({ connection }: { connection: Connection }) {
  if (connection !== "reconnecting") return null;
  return (
    <p role="status" className="mb-3 flex items-center gap-2 rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
      <span aria-hidden className="inline-block h-2 w-2 animate-pulse rounded-full bg-amber-500" />
      Reconnecting… the page shows what it last heard and updates again once the server answers.
    </p>
  );
}
