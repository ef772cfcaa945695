import pg from "pg";

// Whether Postgres answers, asked once a second on a connection of its own (decision
// 019). A stalled Postgres cancels nothing and refuses nothing: without this, every
// request would wait out its query's timeout, holding a connection of the pool. With it,
// requests are answered 503 at once while the database is down, and health says so.

export interface DatabaseWatch {
  /** True from a probe that failed until one succeeds. */
  isDown(): boolean;
  /** Asks the database now, answering within `timeoutMs`: true when it answered. */
  check(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

const SLOW = Symbol("slow");

export function watchDatabase(
  url: string,
  { everyMs = 1000, timeoutMs = 2500, log = console.log }: { everyMs?: number; timeoutMs?: number; log?: (message: string) => void } = {},
): DatabaseWatch {
  let client: pg.Client | null = null;
  let down = false;
  let inFlight: Promise<boolean> | null = null;
  let stopped = false;

  // Only `which` goes: a probe that timed out must not drop the connection of the next one.
  const drop = (which: pg.Client | null = client) => {
    const old = which;
    if (client === which) client = null;
    if (old) {
      old.on("error", () => undefined);
      // end() would wait for a server that does not answer: the socket just goes.
      (old as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    }
  };

  async function ask(): Promise<boolean> {
    let mine = client;
    try {
      if (!mine) {
        const fresh = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: "cactus-db-watch" });
        fresh.on("error", () => drop(fresh));
        client = mine = fresh;
        await fresh.connect();
      }
      await mine.query("SELECT 1");
      return true;
    } catch {
      drop(mine);
      return false;
    }
  }

  function probe(): Promise<boolean> {
    inFlight ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const answered = await Promise.race([ask(), new Promise<typeof SLOW>((resolve) => (timer = setTimeout(() => resolve(SLOW), timeoutMs)))]);
      clearTimeout(timer);
      const up = answered === true;
      if (!up) drop();
      if (up === down && !stopped) {
        log(up ? "The database answers again." : "The database does not answer: requests get 503 until it does.");
      }
      down = !up;
      return up;
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  const timer = setInterval(() => void probe(), everyMs);
  timer.unref();

  return {
    isDown: () => down,
    async check(limitMs) {
      let timer: NodeJS.Timeout | undefined;
      const answer = await Promise.race([probe(), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), limitMs)))]);
      clearTimeout(timer);
      return answer;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      const pending = inFlight;
      drop();
      await pending?.catch(() => undefined);
    },
  };
}

let current: DatabaseWatch | undefined;

export function setDatabaseWatch(watch: DatabaseWatch | undefined): void {
  current = watch;
}

/** Whether the server's database is known not to answer right now. */
export function databaseDown(): boolean {
  return current?.isDown() ?? false;
}

/** Asks the server's database now (the health endpoint), answering within `timeoutMs`. */
export function checkDatabase(timeoutMs: number): Promise<boolean> {
  return current ? current.check(timeoutMs) : Promise.resolve(true);
}
