import { useSyncExternalStore } from "react";

// Times as people read them: in their own time zone, with how long things took. The
// server does not know the reader's zone, so it renders UTC and the browser swaps in the
// local time once hydrated (the first render matches the server's, as hydration needs).

/** "2025-03-14 09:30 UTC". */
export const utcMinute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** 95 000 → "1 min 35 s"; 7 500 000 → "2 h 5 min"; whole seconds under a minute. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

function localMinute(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const subscribeToNothing = () => () => undefined;

/** A moment: UTC from the server, the reader's local time once the page runs. */
export function Time({ iso }: { iso: string }) {
  const text = useSyncExternalStore(subscribeToNothing, () => localMinute(iso), () => utcMinute(iso));
  return (
    <time dateTime={iso} title={utcMinute(iso)}>
      {text}
    </time>
  );
}
