import type { SyntheticEvent } from "react";
import type { RenderFailureListDto } from "../../contract";
import { Time } from "./time";
import { Card } from "./ui";

// A render's failed tries with the end of Blender's log: what to read when a frame fails.
// Closed at first (the render's notice says the last error); each log scrolls in its own
// box, opened at its end, where Blender says what went wrong. Nothing while there are none.

/** Each log box shows its last lines first: the tail's end is where the reason is. */
function scrollLogsToEnd(event: SyntheticEvent<HTMLDetailsElement>) {
  if (!event.currentTarget.open) return;
  for (const log of event.currentTarget.querySelectorAll("pre")) log.scrollTop = log.scrollHeight;
}

const framesOf = ({ frameStart, frameEnd }: { frameStart: number; frameEnd: number }) =>
  frameStart === frameEnd ? `Frame ${frameStart}` : `Frames ${frameStart}–${frameEnd}`;

export function RenderFailures({ list }: { list: RenderFailureListDto }) {
  if (list.failures.length === 0) return null;
  const older = list.total - list.failures.length;
  return (
    <Card className="mt-4">
      <details className="group" onToggle={scrollLogsToEnd}>
        <summary className="flex min-h-11 cursor-pointer items-center justify-between gap-2 font-semibold">
          Failures ({list.total})
          <span className="text-sm font-normal text-stone-500 group-open:hidden">Show</span>
        </summary>
        <ul aria-label="Failures" className="mt-2 divide-y divide-stone-100">
          {list.failures.map((failure, index) => (
            <li key={`${failure.taskId}-${failure.at}-${index}`} className="min-w-0 py-3">
              <p className="text-sm font-medium wrap-anywhere">
                {framesOf(failure)} · {failure.workerName} · <span className="font-normal text-stone-500"><Time iso={failure.at} /></span>
              </p>
              <p className="mt-1 text-sm text-red-800 wrap-anywhere">{failure.error}</p>
              {failure.logTail ? (
                <pre
                  aria-label={`Log of ${framesOf(failure).toLowerCase()} on ${failure.workerName}`}
                  tabIndex={0}
                  className="mt-2 max-h-64 overflow-auto rounded-lg bg-stone-900 p-3 font-mono text-xs leading-relaxed whitespace-pre-wrap text-stone-100 wrap-anywhere"
                >
                  {failure.logTail}
                </pre>
              ) : null}
            </li>
          ))}
        </ul>
        {older > 0 ? <p className="mt-2 text-sm text-stone-500">and {older} older, not shown.</p> : null}
      </details>
    </Card>
  );
}
