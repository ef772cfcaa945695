import { afterAll, beforeAll, expect, test } from "vitest";
import { COLLECT_DELAY_MS } from "../../app/lib/push/sources.server";
import { farm, type Farm } from "../helpers/farm";
import { startPushService, type FakeDevice, type PushService } from "../helpers/push-service";
import { renderNextTask } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// The pushes of credits and requests (docs/design.md §4–§6): a confirmed render asks the
// people whose workers may take it and who have not answered — not its owner, not those
// whose standing rule accepted it, not those without a worker; a render whose escrow
// cannot pay its next frame tells its owner. A stand-in push service on loopback gets
// them; the test decrypts each with its device's keys.

let server: TestServer;
let service: PushService;
let f: Farm;
const people: Record<string, { id: number; token: string; device: FakeDevice }> = {};

async function signIn(username: string, password: string): Promise<string> {
  const response = await fetch(`${server.url}/login`, { method: "POST", body: new URLSearchParams({ username, password }), redirect: "manual" });
  expect(response.status).toBe(302);
  return response.headers.get("set-cookie")!.split(";")[0];
}

/** A user whose phone subscribed on Me. */
async function person(username: string) {
  const { user, token, password } = await createUserWithToken(server, username);
  const cookie = await signIn(username, password);
  const device = service.device(`${username}-phone`);
  const response = await fetch(`${server.url}/me`, {
    method: "POST",
    headers: { Cookie: cookie, "Sec-Fetch-Site": "same-origin" },
    body: new URLSearchParams({ intent: "push-subscribe", subscription: JSON.stringify(device.subscription) }),
    redirect: "manual",
  });
  expect(response.status).toBe(200);
  people[username] = { id: user.id, token, device };
}

const api = (username: string, urlPath: string, init: { method: string; body?: unknown }) =>
  fetch(`${server.url}/api/v1${urlPath}`, {
    method: init.method,
    headers: { Authorization: `Bearer ${people[username].token}`, "Content-Type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

/** The pushes a person's phone got, decrypted. */
const pushesTo = (username: string) => {
  const { device } = people[username];
  return service.received
    .filter((push) => push.path === new URL(device.subscription.endpoint).pathname)
    .map((push) => JSON.parse(device.decrypt(push.body)) as Record<string, unknown>);
};

/** Past the sources' settling time, one more pass: whatever was due has been sent. */
async function settle() {
  await new Promise((resolve) => setTimeout(resolve, COLLECT_DELAY_MS));
  await server.cactus.push.runNow();
}

let boWorker: number;

beforeAll(async () => {
  service = await startPushService();
  server = await startTestServer();
  f = farm(testDatabase(server));
  for (const username of ["ada", "bo", "cy", "dee", "eve"]) await person(username);
  await f.grant(people.ada.id, 100);
  // bo and cy have a worker that may take other people's files; eve's is switched off; dee has none.
  boWorker = await f.helperWorker(people.bo.id);
  await f.helperWorker(people.cy.id);
  await f.worker(people.eve.id, { enabled: false });
  // cy accepts every render paying 1 credit per WU or more: her rule answers for her.
  expect((await api("cy", "/requests/rule", { method: "PUT", body: { minPrice: 1, from: null } })).status).toBe(200);
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
  await service?.close();
});

test("a confirmed render asks who has a worker on and has not answered: bo is told; ada, cy (her rule), dee and eve are not", async () => {
  const render = await f.confirmed(people.ada.id, { frames: "1-10", priceMilli: 2000, boundWu: 10 });
  await expect.poll(() => pushesTo("bo").length, { timeout: 10_000 }).toBe(1);
  expect(pushesTo("bo")[0]).toEqual({
    event: "request-awaits",
    title: "ada asks for your workers",
    body: "scene.blend, 10 frames at 2.00 credits per WU: accept or decline it on Requests.",
    url: "/requests",
    tag: `request-${render}`,
  });
  await settle();
  for (const username of ["ada", "cy", "dee", "eve"]) expect(pushesTo(username), username).toEqual([]);
  expect(pushesTo("bo")).toHaveLength(1);
  expect((await api("bo", `/requests/${render}/decline`, { method: "POST" })).status).toBe(200);
  expect((await api("ada", `/renders/${render}/cancel`, { method: "POST" })).status).toBe(200);
});

test("switched off on Me, a request is not pushed; it still is to the others asked", async () => {
  const before = pushesTo("bo").length;
  const sequelize = testDatabase(server);
  await sequelize.query(`INSERT INTO push_preferences (user_id, muted) VALUES ($id, '{request-awaits}')`, { bind: { id: people.bo.id } });
  const render = await f.confirmed(people.ada.id, { frames: "1-2", priceMilli: 500, boundWu: 2 });
  // Below cy's rule's price: she is asked this time.
  await expect.poll(() => pushesTo("cy").map((push) => push.tag), { timeout: 10_000 }).toEqual([`request-${render}`]);
  await settle();
  expect(pushesTo("bo").length).toBe(before);
  await sequelize.query(`DELETE FROM push_preferences WHERE user_id = $id`, { bind: { id: people.bo.id } });
  expect((await api("ada", `/renders/${render}/cancel`, { method: "POST" })).status).toBe(200);
});

test("my render needs credits: its owner is told when the escrow cannot pay the next frame of bo's worker", async () => {
  // An escrow of 2 credits; a frame may cost up to 1.5; bo's worker renders one of 1 WU.
  const render = await f.confirmed(people.ada.id, { frames: "1-4", priceMilli: 1000, boundWu: 2, frameWu: 1 });
  expect((await api("bo", `/requests/${render}/accept`, { method: "POST" })).status).toBe(200);
  await renderNextTask(server, testDatabase(server), boWorker);
  expect((await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $render`, { render })).status).toBe("needs-credits");
  await expect.poll(() => pushesTo("ada").length, { timeout: 10_000 }).toBe(1);
  expect(pushesTo("ada")[0]).toEqual({
    event: "needs-credits",
    title: `Render ${render} needs credits`,
    body: "scene.blend stopped after 1 frame: top up or lower its price to go on.",
    url: `/renders/${render}`,
    tag: `render-${render}`,
  });
});
