import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAdvisoryLocks, type AdvisoryLocks } from "../../app/lib/advisory-locks.server";
import { createTestDatabase } from "../helpers/db";

// The locks replicas share through Postgres: jobs (the reaper, the sweep) run on one
// replica at a time, and a blob key's lock keeps a sweep's look-and-remove apart from a
// commit's look. Each AdvisoryLocks here stands for a replica: its own connections.

let databaseUrl: string;
let left: AdvisoryLocks;
let right: AdvisoryLocks;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  left = createAdvisoryLocks(databaseUrl);
  right = createAdvisoryLocks(databaseUrl);
});
afterAll(async () => {
  await left?.close();
  await right?.close();
});

function gate() {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

test("a job runs on one replica at a time: the others skip it while it runs, and run it after", async () => {
  const running = gate();
  const started = gate();
  const first = left.runAlone("sweep", async () => {
    started.open();
    await running.opened;
  });
  await started.opened;
  const skipped: string[] = [];
  expect(await right.runAlone("sweep", async () => void skipped.push("right"))).toBe(false);
  // The same replica's next tick too (a job slower than its schedule).
  expect(await left.runAlone("sweep", async () => void skipped.push("left"))).toBe(false);
  // Another job is not held up.
  expect(await right.runAlone("reaper", async () => undefined)).toBe(true);
  running.open();
  expect(await first).toBe(true);
  expect(skipped).toEqual([]);
  expect(await right.runAlone("sweep", async () => undefined)).toBe(true);
});

test("a job that throws lets go of its lock", async () => {
  await expect(left.runAlone("failing", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  expect(await right.runAlone("failing", async () => undefined)).toBe(true);
});

test("a replica that dies mid-job lets go: its connection ends, and another replica runs the job", async () => {
  const dying = createAdvisoryLocks(databaseUrl, () => undefined);
  const started = gate();
  const never = gate();
  void dying
    .runAlone("reaper-of-the-dead", async () => {
      started.open();
      await never.opened;
    })
    .catch(() => undefined);
  await started.opened;
  expect(await right.runAlone("reaper-of-the-dead", async () => undefined)).toBe(false);

  // As kill -9 of its process would: Postgres ends the session holding the lock.
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (hashtextextended('job:reaper-of-the-dead', 0) & 4294967295)::oid`,
    );
    expect(rowCount).toBe(1);
  } finally {
    await admin.end();
  }
  let ran = false;
  for (let tries = 0; tries < 40 && !ran; tries += 1) {
    ran = await right.runAlone("reaper-of-the-dead", async () => undefined);
    if (!ran) await tick();
  }
  expect(ran).toBe(true);
  never.open();
  await dying.close();
});

test("a key held exclusively waits for its shared holders, and they for it; other keys are free", async () => {
  const order: string[] = [];
  const sharedHeld = gate();
  const sharedIn = gate();
  const reading = left.shared("results/ab/abc", async () => {
    sharedIn.open();
    await sharedHeld.opened;
    order.push("shared done");
  });
  await sharedIn.opened;
  // Shared holders do not wait for each other, nor does another key.
  expect(await right.shared("results/ab/abc", async () => "also shared")).toBe("also shared");
  expect(await right.exclusive("results/cd/cde", async () => "other key")).toBe("other key");

  const removing = right.exclusive("results/ab/abc", async () => void order.push("exclusive"));
  await tick();
  expect(order).toEqual([]);
  sharedHeld.open();
  await Promise.all([reading, removing]);
  expect(order).toEqual(["shared done", "exclusive"]);

  const exclusiveHeld = gate();
  const exclusiveIn = gate();
  const holding = left.exclusive("results/ab/abc", async () => {
    exclusiveIn.open();
    await exclusiveHeld.opened;
    order.push("exclusive done");
  });
  await exclusiveIn.opened;
  const looking = right.shared("results/ab/abc", async () => void order.push("shared after"));
  await tick();
  exclusiveHeld.open();
  await Promise.all([holding, looking]);
  expect(order.slice(2)).toEqual(["exclusive done", "shared after"]);
});

test("what runs under a key lock may fail; the lock is let go and the error passed on", async () => {
  await expect(left.exclusive("results/ff/fff", () => Promise.reject(new Error("S3 said no")))).rejects.toThrow("S3 said no");
  expect(await right.exclusive("results/ff/fff", async () => "free")).toBe("free");
});
