/** Waits `ms`, or less when `signal` aborts (it resolves then, it does not throw). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Half the wait fixed, half random: agents that lost the server together do not come
 * back together, yet none waits less than half its backoff.
 */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.round(ms / 2 + (random() * ms) / 2);
}

/** The next wait of a doubling backoff, capped. */
export function doubled(ms: number, maxMs: number): number {
  return Math.min(maxMs, ms * 2);
}
