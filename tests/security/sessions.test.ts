import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiErrorSchema } from "../../contract";
import { Session } from "../../db/models";
import { farm } from "../helpers/farm";
import { startTestServer, type TestServer } from "../helpers/server";
import { signInWithCookie } from "../helpers/sessions";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ CACTUS_TRUST_PROXY: "1" });
  testDatabase(server);
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

let nextIp = 1;
const freshIp = () => `198.51.100.${nextIp++}`;

function me(cookie: string) {
  return fetch(`${server.url}/api/v1/me`, { headers: { Cookie: cookie } });
}

function post(path: string, init: { cookie?: string; token?: string; body: unknown; ip?: string }) {
  const headers: Record<string, string> = { "Content-Type": "application/json", Origin: server.url, "X-Forwarded-For": init.ip ?? freshIp() };
  if (init.cookie) headers.Cookie = init.cookie;
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  return fetch(`${server.url}/api/v1${path}`, { method: "POST", headers, body: JSON.stringify(init.body) });
}

async function signIn(username: string, password: string, userAgent = "test") {
  return signInWithCookie(server.url, username, password, { "User-Agent": userAgent, "X-Forwarded-For": freshIp() });
}

describe("a browser session", () => {
  test("is a row: each sign-in gets a cookie of its own, and the row stores only a hash of it", async () => {
    const { user, password } = await createUserWithToken(server, "two-devices");
    const phone = await signIn("two-devices", password, "phone");
    const laptop = await signIn("two-devices", password, "laptop");
    expect(phone).not.toBe(laptop);
    expect((await me(phone)).status).toBe(200);
    const rows = await Session.findAll({ where: { userId: user.id } });
    expect(rows.map((row) => row.userAgent).sort()).toEqual(["laptop", "phone"]);
    for (const row of rows) expect(phone + laptop).not.toContain(row.secretHash);
  });

  test("signing out ends it for good: the same cookie sent again is signed out", async () => {
    const { password } = await createUserWithToken(server, "leaver");
    const cookie = await signIn("leaver", password);
    const out = await fetch(`${server.url}/logout`, { method: "POST", redirect: "manual", headers: { Cookie: cookie, Origin: server.url } });
    expect(out.status).toBe(302);
    expect(out.headers.get("Set-Cookie")).toMatch(/cactus_session=;.*Max-Age=0/);
    const after = await me(cookie);
    expect(after.status).toBe(401);
    expect(apiErrorSchema.parse(await after.json()).error.code).toBe("unauthorized");
    const page = await fetch(`${server.url}/projects`, { redirect: "manual", headers: { Cookie: cookie } });
    expect(page.headers.get("Location")).toMatch(/^\/login\?redirectTo=/);
  });

  test("ends after the idle limit unused, and at the absolute limit however used", async () => {
    const { user, password } = await createUserWithToken(server, "sleeper");
    const idle = await signIn("sleeper", password, "idle");
    const old = await signIn("sleeper", password, "old");
    expect((await me(idle)).status).toBe(200);
    await Session.update({ lastSeenAt: new Date(Date.now() - 15 * 24 * 3600_000) }, { where: { userId: user.id, userAgent: "idle" } });
    await Session.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { userId: user.id, userAgent: "old" } });
    expect((await me(idle)).status).toBe(401);
    expect((await me(old)).status).toBe(401);
  });

  test("the old signed {userId} cookie of before sessions is nobody", async () => {
    // Whatever it says, a cookie that names no session row signs nobody in.
    const forged = `cactus_session=${encodeURIComponent(Buffer.from(JSON.stringify({ userId: 1 })).toString("base64"))}`;
    expect((await me(forged)).status).toBe(401);
  });
});

describe("changing the password", () => {
  test("ends every other session, keeps the one asking, and the new password works", async () => {
    const { user, password, token } = await createUserWithToken(server, "changer");
    const here = await signIn("changer", password, "here");
    const elsewhere = await signIn("changer", password, "elsewhere");
    const response = await post("/me/password", { cookie: here, body: { currentPassword: password, newPassword: "a brand new password" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ endedSessions: 1 });
    expect((await me(here)).status).toBe(200);
    expect((await me(elsewhere)).status).toBe(401);
    const ended = await Session.findOne({ where: { userId: user.id, userAgent: "elsewhere" } });
    expect(ended?.endedWhy).toBe("password-changed");
    // API tokens are not sessions: they stay until revoked.
    expect((await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    await signIn("changer", "a brand new password");
  });

  test("with an API token it ends every browser session", async () => {
    const { password, token } = await createUserWithToken(server, "token-changer");
    const browser = await signIn("token-changer", password);
    const response = await post("/me/password", { token, body: { currentPassword: password, newPassword: "another new password" } });
    expect(await response.json()).toEqual({ endedSessions: 1 });
    expect((await me(browser)).status).toBe(401);
  });

  test("a wrong current password is a 403 and changes nothing; guessing it is rate-limited", async () => {
    const { password, token } = await createUserWithToken(server, "guarded");
    const browser = await signIn("guarded", password);
    const ip = freshIp();
    for (let attempt = 0; attempt < 10; attempt++) {
      const wrong = await post("/me/password", { token, ip, body: { currentPassword: `wrong-${attempt}`, newPassword: "a brand new password" } });
      expect(wrong.status).toBe(403);
      expect(apiErrorSchema.parse(await wrong.json()).error.message).toMatch(/current password is not right/);
    }
    const limited = await post("/me/password", { token, ip, body: { currentPassword: password, newPassword: "a brand new password" } });
    expect(limited.status).toBe(429);
    expect((await me(browser)).status).toBe(200);
    await signIn("guarded", password);
  });

  test("a new password that is too short, or the same as the current one, is a 400", async () => {
    const { password, token } = await createUserWithToken(server, "picky");
    expect((await post("/me/password", { token, body: { currentPassword: password, newPassword: "short" } })).status).toBe(400);
    const same = await post("/me/password", { token, body: { currentPassword: password, newPassword: password } });
    expect(same.status).toBe(400);
    expect(apiErrorSchema.parse(await same.json()).error.message).toMatch(/same as the current one/);
  });
});

describe("an event stream", () => {
  const render = (userId: number) => farm(testDatabase(server)).render(userId);

  test("ends once the token it was opened with is revoked", async () => {
    const { user, token } = await createUserWithToken(server, "watcher");
    const renderId = await render(user.id);
    const response = await fetch(`${server.url}/api/v1/renders/${renderId}/events`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read();
    const tokens = (await (await fetch(`${server.url}/api/v1/tokens`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
      tokens: { id: number }[];
    };
    const started = Date.now();
    await fetch(`${server.url}/api/v1/tokens/${tokens.tokens[0].id}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      expect(Date.now() - started, "the stream is still open").toBeLessThan(15_000);
    }
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  test("ends once the browser session it was opened with signs out", async () => {
    const { user, password } = await createUserWithToken(server, "session-watcher");
    const cookie = await signIn("session-watcher", password);
    const renderId = await render(user.id);
    const response = await fetch(`${server.url}/api/v1/renders/${renderId}/events`, { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read();
    const started = Date.now();
    await fetch(`${server.url}/logout`, { method: "POST", redirect: "manual", headers: { Cookie: cookie, Origin: server.url } });
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      expect(Date.now() - started, "the stream is still open").toBeLessThan(15_000);
    }
  }, 30_000);
});
