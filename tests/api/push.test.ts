import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { noteWorkersOffline } from "../../db/sql/worker-events";
import { OFFLINE_AFTER_MS } from "../../domain/worker-status";
import { startNodeProcess } from "../../bench/lib/server-process";
import { ArchiveApi, blend, uploaded } from "../helpers/archive-api";
import { startPushService, verifyVapid, type FakeDevice, type PushService } from "../helpers/push-service";
import { createAgent, renderOf, type TestAgent } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// Web push, the server's half: a device subscribes on Me, things happen on the farm, and
// a stand-in push service on loopback receives what web-push sends; the test decrypts it
// with the device's private keys (RFC 8291) and checks the VAPID signature (RFC 8292).

let server: TestServer;
let service: PushService;
let api: ArchiveApi;
let agent: TestAgent;
let workerId: number;
let archiveId: number;
let cookie: string;
let phone: FakeDevice;

/** Signs in through the sign-in page's form: the session cookie the Me page's actions need. */
async function signIn(username: string, password: string): Promise<string> {
  const response = await fetch(`${server.url}/login`, {
    method: "POST",
    body: new URLSearchParams({ username, password }),
    redirect: "manual",
  });
  expect(response.status).toBe(302);
  return response.headers.get("set-cookie")!.split(";")[0];
}

/** Posts one of the Me page's forms, as the browser does from the page (decision 019: same-origin). */
const postMe = (fields: Record<string, string> | URLSearchParams) =>
  fetch(`${server.url}/me`, {
    method: "POST",
    headers: { Cookie: cookie, "Sec-Fetch-Site": "same-origin" },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });

const subscribe = async (device: FakeDevice) =>
  expect((await postMe({ intent: "push-subscribe", subscription: JSON.stringify(device.subscription) })).status).toBe(200);

const subscriptions = async () =>
  (await testDatabase(server).query(`SELECT endpoint FROM push_subscriptions ORDER BY id`, { type: "SELECT" as never })) as unknown as {
    endpoint: string;
  }[];

/** The pushes the service got for a device, decrypted. */
const pushesTo = (device: FakeDevice) =>
  service.received
    .filter((push) => push.path === new URL(device.subscription.endpoint).pathname)
    .map((push) => JSON.parse(device.decrypt(push.body)) as Record<string, unknown>);

const finishRender = async (frames = "1") => {
  const render = await renderOf(await api.call("/renders", { body: { archiveId, frames } }), 201);
  for (let done = 0; done < frames.split("-").length; done++) await agent.renderNext();
  return render;
};

beforeAll(async () => {
  service = await startPushService();
  server = await startTestServer();
  const ada = await createUserWithToken(server, "ada");
  api = new ArchiveApi(server, ada.token);
  ({ agent, workerId } = await createAgent(api, "box-1"));
  const project = await api.createProject();
  archiveId = (await uploaded(await api.upload(project.id, blend(3000), { filename: "shot.blend" }))).id;
  await testDatabase(server).query(`UPDATE archives SET inspected_at = now() WHERE id = $id`, { bind: { id: archiveId } });
  cookie = await signIn("ada", ada.password);
  phone = service.device("phone");
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
  await service?.close();
});

describe("subscribing", () => {
  test("a device subscribes from Me, and subscribing again changes nothing", async () => {
    await subscribe(phone);
    await subscribe(phone);
    expect(await subscriptions()).toEqual([{ endpoint: phone.subscription.endpoint }]);
  });

  test("a subscription that is not a push service's is refused with why, and nothing is kept", async () => {
    const response = await postMe({
      intent: "push-subscribe",
      subscription: JSON.stringify({ ...phone.subscription, endpoint: "http://10.0.0.8/push/x" }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("A push endpoint is an https address of the browser");
    expect(await subscriptions()).toHaveLength(1);
  });
});

describe("pushes", () => {
  test("my render finished: the push service gets it encrypted for the device, signed by the server's VAPID key", async () => {
    const render = await finishRender();
    await expect.poll(() => pushesTo(phone).length, { timeout: 10_000 }).toBe(1);
    expect(pushesTo(phone)[0]).toEqual({
      event: "render-finished",
      title: `Render ${render.id} is done`,
      body: "shot.blend: 1 frame ready to download.",
      url: `/renders/${render.id}`,
      tag: `render-${render.id}`,
    });
    const push = service.received.at(-1)!;
    expect(push.headers["content-encoding"]).toBe("aes128gcm");
    expect(Number(push.headers.ttl)).toBeGreaterThan(3600);
    expect(push.headers.topic).toBe(`render-${render.id}`);
    const [keys] = (await testDatabase(server).query(`SELECT value FROM settings WHERE key = 'vapid_keys'`, {
      type: "SELECT" as never,
    })) as unknown as { value: { publicKey: string } }[];
    const claims = verifyVapid(push.headers.authorization, keys.value.publicKey);
    expect(claims.aud).toBe(service.url);
    expect(claims.sub).toBe("mailto:cactus@localhost");
    expect(Number(claims.exp) * 1000).toBeGreaterThan(Date.now());
  });

  test("each event is sent once: a second replica on the same database, and more passes, send nothing again", async () => {
    // The replica is a process of its own, as in production (the server's modules hold one database each).
    const replica = await startNodeProcess(
      ["build/server.js"],
      { ...process.env, NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", DATABASE_URL: server.databaseUrl, CACTUS_DATA_DIR: server.dataDir },
      /Cactus is serving on (http:\/\/\S+)/,
    );
    try {
      const before = service.received.length;
      const render = await finishRender();
      await expect.poll(() => pushesTo(phone).filter((push) => push.url === `/renders/${render.id}`).length, { timeout: 10_000 }).toBe(1);
      await Promise.all([server.cactus.push.runNow(), server.cactus.push.runNow()]);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await server.cactus.push.runNow();
      expect(service.received.length).toBe(before + 1);
    } finally {
      await replica.stop();
    }
  });

  test("a device whose push service answers 410 (it unsubscribed) is forgotten; the others still get theirs", async () => {
    const old = service.device("old-laptop");
    service.answer("old-laptop", 410);
    await subscribe(old);
    const render = await finishRender();
    await expect.poll(() => pushesTo(phone).filter((push) => push.url === `/renders/${render.id}`).length, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await subscriptions()).map((row) => row.endpoint), { timeout: 5000 }).toEqual([phone.subscription.endpoint]);
  });

  test("a push service that fails is tried again a bounded number of times, then the push is dropped", async () => {
    const flaky = service.device("flaky");
    service.answer("flaky", 503);
    await subscribe(flaky);
    await finishRender();
    const tries = () => service.received.filter((push) => push.path === "/push/flaky").length;
    await expect.poll(tries, { timeout: 10_000 }).toBe(1);
    const sequelize = testDatabase(server);
    // The retries' back-off, skipped: each try is due at once.
    for (let attempt = 2; attempt <= 6; attempt++) {
      await sequelize.query(`UPDATE push_deliveries SET next_attempt_at = now()`);
      await server.cactus.push.runNow();
    }
    expect(tries()).toBe(5);
    expect(await sequelize.query(`SELECT id FROM push_deliveries`, { type: "SELECT" as never })).toEqual([]);
    expect((await subscriptions()).map((row) => row.endpoint)).toContain(flaky.subscription.endpoint);
    await postMe({ intent: "push-unsubscribe", endpoint: flaky.subscription.endpoint });
  });

  test("an event switched off on Me is not pushed; the others still are", async () => {
    const on = ["render-failed", "needs-credits", "quote-ready", "worker-offline", "worker-failing"];
    const fields = new URLSearchParams({ intent: "push-events" });
    for (const event of on) fields.append("event", event);
    expect((await postMe(fields)).status).toBe(200);
    const before = pushesTo(phone).length;
    await finishRender();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await server.cactus.push.runNow();
    expect(pushesTo(phone).length).toBe(before);

    // My worker went offline: on, so pushed, with the Workers page as its link.
    await testDatabase(server).query(`UPDATE workers SET last_seen_at = now() - interval '3 minutes' WHERE id = $id`, { bind: { id: workerId } });
    expect(await noteWorkersOffline(testDatabase(server), OFFLINE_AFTER_MS)).toBe(1);
    expect(await noteWorkersOffline(testDatabase(server), OFFLINE_AFTER_MS)).toBe(0);
    await expect.poll(() => pushesTo(phone).at(-1)?.title, { timeout: 10_000 }).toBe("box-1 went offline");
    expect(pushesTo(phone).at(-1)).toMatchObject({ event: "worker-offline", url: "/workers", tag: `worker-${workerId}` });
    await agent.hello();
  });

  test("my worker keeps failing: after 3 failures in a row, one push with the last error", async () => {
    for (let index = 1; index <= 3; index++) {
      // A machine error on a farm of one worker fails its render at once (no other worker
      // may take the frame): three renders, each failed by this worker.
      await renderOf(await api.call("/renders", { body: { archiveId, frames: String(index) } }), 201);
      const task = await agent.claim();
      const response = await fetch(`${server.url}/api/v1/agent/tasks/${task.id}/fail`, {
        method: "POST",
        headers: { Authorization: `Bearer ${agent.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ leaseToken: task.leaseToken, error: `Error: out of memory (${index})`, logTail: "" }),
      });
      expect(response.status).toBe(200);
    }
    // Each render's own "failed" push comes too, in any order with this one.
    const failing = () => pushesTo(phone).filter((push) => push.event === "worker-failing");
    await expect.poll(() => failing().map((push) => push.title), { timeout: 10_000 }).toEqual(["box-1 keeps failing"]);
    expect(failing()[0].body).toBe("3 tasks failed in a row; the last error: Error: out of memory (3)");
  });
});
