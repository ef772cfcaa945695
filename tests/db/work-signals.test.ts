import pg from "pg";
import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import { listenToDatabase, type DatabaseEvents } from "../../app/lib/db-events.server";
import { ownerOf, startWorkSignals, type WorkSignals } from "../../app/lib/work-signals.server";
import {
  WORK_QUEUED_CHANNEL,
  applyRenderEvent,
  claimTask,
  completeTask,
  createInspectTask,
  failTask,
  heartbeatTask,
  reapExpiredLeases,
  recordResult,
  releaseTask,
  type Lease,
} from "../../db/sql/queue";
import { changePrice, topUpEscrow } from "../../db/sql/render-credits";
import { requeueWorkerTasks } from "../../db/sql/workers";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// "Work appeared" signals (decision 026): every statement that puts a task in the queue
// tells the held claims of the work's owner, on a channel every replica listens to; the
// hot statements send nothing. And the server's listener that wakes held claims.

let databaseUrl: string;
let sequelize: Sequelize;
let f: Farm;
let listener: pg.Client;
const heard: { channel: string; payload: Record<string, unknown> }[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  sequelize = connectDatabase(databaseUrl);
  f = farm(sequelize);
  listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  listener.on("notification", ({ channel, payload }) => heard.push({ channel, payload: JSON.parse(payload!) }));
  await listener.query(`LISTEN ${WORK_QUEUED_CHANNEL}`);
});
afterAll(async () => {
  await listener.end();
  await sequelize.close();
});

/** What the statement run by `act` sent on the work channel (after a NOTIFY round trip that flushes the rest). */
async function signalsOf(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  heard.length = 0;
  await act();
  await sequelize.query(`SELECT pg_notify('${WORK_QUEUED_CHANNEL}', '{"end":true}')`);
  await expect.poll(() => heard.some(({ payload }) => payload.end)).toBe(true);
  return heard.filter(({ payload }) => !payload.end).map(({ payload }) => payload);
}

async function leased() {
  const user = await f.user();
  const workerId = await f.worker(user);
  await f.render(user, { frames: "1-2" });
  const task = (await claimTask(sequelize, { workerId }))!;
  const lease: Lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
  return { user, workerId, task, lease };
}

describe("a task put in the queue tells its owner's held claims", () => {
  test("released by its agent", async () => {
    const { user, lease } = await leased();
    expect(await signalsOf(() => releaseTask(sequelize, lease))).toEqual([{ userId: user }]);
  });

  test("reaped when its lease expired", async () => {
    const { user, task } = await leased();
    await sequelize.query(`UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $id`, { bind: { id: task.id } });
    expect(await signalsOf(() => reapExpiredLeases(sequelize))).toContainEqual({ userId: user });
  });

  test("failed by a worker, for the others", async () => {
    const { user, lease } = await leased();
    // Another worker of the owner's that may take it: with none left, the task fails instead.
    await f.worker(user);
    expect(await signalsOf(() => failTask(sequelize, { ...lease, error: "Error: out of memory" }))).toEqual([{ userId: user }]);
  });

  test("taken back from a worker its owner disabled", async () => {
    const { user, workerId } = await leased();
    expect(await signalsOf(() => requeueWorkerTasks(sequelize, workerId))).toEqual([{ userId: user }]);
  });

  test("an archive's inspect task, for its uploader's workers", async () => {
    const user = await f.user();
    const archiveId = await f.archive(user);
    expect(await signalsOf(() => createInspectTask(sequelize, archiveId))).toEqual([{ userId: user }]);
  });

  test("the hot statements (claim, heartbeat, complete) send nothing", async () => {
    const user = await f.user();
    const workerId = await f.worker(user);
    await f.render(user, { frames: "1" });
    const signals = await signalsOf(async () => {
      const task = (await claimTask(sequelize, { workerId }))!;
      const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
      await heartbeatTask(sequelize, { ...lease, progress: 0.5 });
      await recordResult(sequelize, lease, {
        frame: 1,
        imageKey: "results/x.png",
        imageBytes: 10,
        thumbnailKey: null,
        width: 64,
        height: 48,
        renderTimeMs: 10,
        blenderVersion: "3.4.1",
      });
      expect(await completeTask(sequelize, lease)).toMatchObject({ ok: true });
    });
    expect(signals).toEqual([]);
  });
});

describe("other people's work (a render confirmed with an escrow asks their workers)", () => {
  test("a task of it put back in the queue tells anyone's held claims, its owner's among them", async () => {
    const owner = await f.user();
    await f.grant(owner, 100);
    const helper = await f.user();
    const workerId = await f.helperWorker(helper);
    const render = await f.confirmed(owner, { frames: "1-2" });
    await sequelize.query(`INSERT INTO render_request_acks (render_id, user_id, decision) VALUES ($render, $helper, 'accepted')`, {
      bind: { render, helper },
    });
    const task = (await claimTask(sequelize, { workerId }))!;
    expect(task.renderId).toBe(render);
    const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
    expect(await signalsOf(() => releaseTask(sequelize, lease))).toEqual([{ userId: owner, anyone: true }]);
  });

  test("a new price or a top-up tells anyone's held claims: the render may come first, or be covered again", async () => {
    const owner = await f.user();
    await f.grant(owner, 100);
    const render = await f.confirmed(owner, { frames: "1-2" });
    expect(await signalsOf(() => sequelize.transaction((t) => changePrice(sequelize, render, 2000, t)))).toEqual([{}]);
    expect(await signalsOf(() => sequelize.transaction((t) => topUpEscrow(sequelize, { id: render, ownerId: owner }, 1000, t)))).toEqual([{}]);
  });
});

describe("the server's listener", () => {
  let events: DatabaseEvents;
  let signals: WorkSignals;
  const logs: string[] = [];
  beforeAll(async () => {
    events = listenToDatabase(databaseUrl, (message) => logs.push(message));
    signals = startWorkSignals(events);
    while (!signals.listening) await new Promise((resolve) => setTimeout(resolve, 20));
  });
  afterAll(async () => {
    await signals.close();
    await events.close();
  });

  test("wakes a claim held for the owner of new work, not another's, and not for a render that stopped", async () => {
    const [mine, theirs] = [await f.user(), await f.user()];
    const paused = await f.render(mine, { status: "paused" });
    const running = await f.render(mine, { status: "rendering" });
    const wait = signals.subscribe(mine);
    const woken = wait.until(10_000);
    const outcome = { value: "" };
    void woken.then((value) => (outcome.value = value));
    await applyRenderEvent(sequelize, await f.render(theirs, { status: "paused" }), "resumed");
    await applyRenderEvent(sequelize, running, "paused");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(outcome.value).toBe("");
    await applyRenderEvent(sequelize, paused, "resumed");
    expect(await woken).toBe("work");
    wait.cancel();
  });

  test("work other people's workers may take wakes every held claim", async () => {
    const [owner, helper] = [await f.user(), await f.user()];
    await f.grant(owner, 100);
    const quoted = await f.render(owner, { status: "paused" });
    const wait = signals.subscribe(helper);
    const woken = wait.until(10_000);
    // Another person's render that asks nobody: nothing for the helper.
    await applyRenderEvent(sequelize, quoted, "resumed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await Promise.race([woken, Promise.resolve("still held")])).toBe("still held");
    // Confirmed with an escrow (the confirm's event), it asks everyone.
    await f.confirmed(owner, { frames: "1-2" });
    expect(await woken).toBe("work");
    wait.cancel();
    expect(ownerOf(WORK_QUEUED_CHANNEL, {})).toBe("anyone");
    expect(ownerOf(WORK_QUEUED_CHANNEL, { userId: 3, anyone: true })).toBe("anyone");
    expect(ownerOf(WORK_QUEUED_CHANNEL, { userId: 3 })).toBe(3);
  });

  test("a signal between subscribing and waiting is not lost", async () => {
    const user = await f.user();
    const wait = signals.subscribe(user);
    await createInspectTask(sequelize, await f.archive(user));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await wait.until(10_000)).toBe("work");
    wait.cancel();
  });

  test("a held claim times out, or ends when its agent hangs up", async () => {
    const user = await f.user();
    const wait = signals.subscribe(user);
    const started = Date.now();
    expect(await wait.until(200)).toBe("timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const hangUp = new AbortController();
    setTimeout(() => hangUp.abort(), 100);
    expect(await wait.until(10_000, hangUp.signal)).toBe("aborted");
    wait.cancel();
  });

  test("a lost connection wakes every held claim, polls meanwhile, and comes back", async () => {
    const user = await f.user();
    const wait = signals.subscribe(user);
    const woken = wait.until(30_000);
    await sequelize.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cactus events'`);
    expect(await woken).toBe("work");
    await expect.poll(() => logs.some((line) => /connection that hears of changes was lost/.test(line))).toBe(true);
    await expect.poll(() => signals.listening, { timeout: 10_000 }).toBe(true);
    // Listening again (the wake that says so is taken first): a signal wakes the claim.
    await wait.until(100);
    const again = wait.until(30_000);
    await createInspectTask(sequelize, await f.archive(user));
    expect(await again).toBe("work");
    wait.cancel();
  });

  test("closing answers every held claim", async () => {
    const closing = startWorkSignals(events);
    const wait = closing.subscribe(await f.user());
    const held = wait.until(30_000);
    await closing.close();
    expect(await held).toBe("closing");
  });
});
