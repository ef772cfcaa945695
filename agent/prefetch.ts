import type { ArchiveCache } from "./archive-cache";
import type { AgentClient } from "./client";

// While a frame renders, the agent fetches (and verifies, and unpacks) the archive of the
// work it is likely to get next (docs/design.md §5), so a task of a new archive starts
// without a download: the network works while Blender does. The server says what comes
// next (GET /agent/next-archives, the claim's own order) and lets the agent download it.

export interface PrefetchOptions {
  client: AgentClient;
  cache: ArchiveCache;
  log: (message: string) => void;
  /** Asks the server at most this often: the next render rarely changes faster. */
  everyMs?: number;
  now?: () => number;
}

export class Prefetcher {
  private running: Promise<void> | null = null;
  private lookedAt = -Infinity;
  private readonly abort = new AbortController();

  constructor(private readonly options: PrefetchOptions) {}

  /** Blender started on `current` (an archive's hash): time to look ahead, unless it did lately. */
  whileRendering(current: string): void {
    const now = this.options.now?.() ?? Date.now();
    if (this.running || this.abort.signal.aborted || now - this.lookedAt < (this.options.everyMs ?? 10_000)) return;
    this.lookedAt = now;
    this.running = this.fetchAhead(current)
      .catch((error: Error) => {
        // The claim fetches it anyway: a failed prefetch only costs the wait it would have saved.
        if (!this.abort.signal.aborted) this.options.log(`Could not fetch the next archive ahead of its task: ${error.message}`);
      })
      .finally(() => (this.running = null));
  }

  /** Ends a prefetch under way (its partial download is removed). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async fetchAhead(current: string) {
    const { client, cache, log } = this.options;
    const signal = this.abort.signal;
    for (const archive of await client.nextArchives({ signal })) {
      if (archive.hash === current || cache.has(archive.hash) || signal.aborted) continue;
      const started = Date.now();
      (await cache.acquire(archive, signal)).release();
      log(`Fetched archive ${archive.hash.slice(0, 12)} ahead of its task (${archive.size} bytes, ${((Date.now() - started) / 1000).toFixed(1)} s).`);
    }
  }
}
