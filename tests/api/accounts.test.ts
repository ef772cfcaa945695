import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiTokenSchema, apiErrorSchema, createdTokenSchema, sessionTokenResponseSchema, tokenListSchema, userSchema } from "../../contract";
import { ApiToken } from "../../db/models";
import { hashSecret } from "../../app/lib/secrets.server";
import { ADMIN, startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

let server: TestServer;
beforeAll(async () => {
  // Trusting X-Forwarded-For lets each test sign in from its own address, so the
  // rate limits of one test do not spill into another.
  server = await startTestServer({ CACTUS_TRUST_PROXY: "1" });
  testDatabase(server);
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

let nextIp = 1;
const freshIp = () => `198.51.100.${nextIp++}`;

function call(path: string, init: { method?: string; token?: string; body?: unknown; ip?: string } = {}) {
  const headers: Record<string, string> = { "X-Forwarded-For": init.ip ?? freshIp() };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(`${server.url}/api/v1${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function expectError(response: Response, status: number, code: string, message?: RegExp) {
  expect(response.status).toBe(status);
  const body = apiErrorSchema.parse(await response.json());
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
}

describe("login", () => {
  test("the right password answers with the user and a new API token that works", async () => {
    const response = await call("/auth/login", { body: { ...ADMIN, tokenName: "laptop" } });
    expect(response.status).toBe(201);
    const session = sessionTokenResponseSchema.parse(await response.json());
    expect(session.user).toMatchObject({ username: "admin", role: "admin" });
    expect(session.token).toMatch(/^cct_/);

    const me = await call("/me", { token: session.token });
    expect(me.status).toBe(200);
    expect(userSchema.parse(await me.json()).username).toBe("admin");
    const stored = await ApiToken.findByPk(session.tokenId);
    expect(stored?.name).toBe("laptop");
  });

  test("the username is case-insensitive and the token has a default name", async () => {
    const response = await call("/auth/login", { body: { username: "ADMIN", password: ADMIN.password } });
    expect(response.status).toBe(201);
    const { tokenId } = sessionTokenResponseSchema.parse(await response.json());
    expect((await ApiToken.findByPk(tokenId))?.name).toBe("cactus CLI");
  });

  test("a wrong password and an unknown user get the same 401, and no token", async () => {
    const before = await ApiToken.count();
    await expectError(
      await call("/auth/login", { body: { username: ADMIN.username, password: "not the password" } }),
      401,
      "unauthorized",
      /wrong username or password/i,
    );
    await expectError(
      await call("/auth/login", { body: { username: "nobody-here", password: "whatever-password" } }),
      401,
      "unauthorized",
      /wrong username or password/i,
    );
    expect(await ApiToken.count()).toBe(before);
  });

  test("a body without a password is a 400 naming the field", async () => {
    await expectError(await call("/auth/login", { body: { username: "admin" } }), 400, "bad_request", /password/);
  });

  test("after 10 failures for one username from one address, even the right password waits (429)", async () => {
    const { password } = await createUserWithToken(server, "guessed");
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      const response = await call("/auth/login", { ip, body: { username: "guessed", password: `wrong-${i}` } });
      expect(response.status).toBe(401);
    }
    const blocked = await call("/auth/login", { ip, body: { username: "Guessed", password } });
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectError(blocked, 429, "rate_limited", /try again in \d+ minute/);
    // Another address is not punished for it.
    expect((await call("/auth/login", { body: { username: "guessed", password } })).status).toBe(201);
  });

  test("after 30 failures from one address over many usernames, that address waits", async () => {
    const ip = freshIp();
    for (let i = 0; i < 30; i++) {
      const response = await call("/auth/login", { ip, body: { username: `spray-${i}`, password: "password-1" } });
      expect(response.status).toBe(401);
    }
    await expectError(await call("/auth/login", { ip, body: ADMIN }), 429, "rate_limited");
    expect((await call("/auth/login", { body: ADMIN })).status).toBe(201);
    // 31 password hashes: a second each when the machine is shared with other test runs.
  }, 120_000);
});

describe("who am I", () => {
  test("without a token: 401 saying how to sign in", async () => {
    await expectError(await call("/me"), 401, "unauthorized", /cactus login/);
  });

  test("with a token nobody issued: 401", async () => {
    await expectError(await call("/me", { token: "cct_made-up" }), 401, "unauthorized", /not valid/);
  });

  test("with a malformed Authorization header: 401", async () => {
    const response = await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: "Token abc" } });
    await expectError(response, 401, "unauthorized", /Bearer/);
  });

  test("answers the user with their credits", async () => {
    const { token } = await createUserWithToken(server, "reader");
    const response = await call("/me", { token });
    expect(response.status).toBe(200);
    expect(userSchema.parse(await response.json())).toMatchObject({ username: "reader", role: "user", credits: 0 });
  });
});

describe("API tokens", () => {
  test("create shows the token once; the list never does; only its hash is stored", async () => {
    const { token } = await createUserWithToken(server, "tokener");
    const created = await call("/tokens", { token, body: { name: "ci pipeline" } });
    expect(created.status).toBe(201);
    const body = createdTokenSchema.parse(await created.json());
    expect(body).toMatchObject({ name: "ci pipeline", revokedAt: null, lastUsedAt: null });
    expect(body.token).toMatch(/^cct_/);

    const row = await ApiToken.findByPk(body.id);
    expect(row?.tokenHash).toBe(hashSecret(body.token));
    expect(JSON.stringify(row?.toJSON())).not.toContain(body.token);

    const listed = await call("/tokens", { token: body.token });
    expect(listed.status).toBe(200);
    const list = await listed.json();
    expect(JSON.stringify(list)).not.toContain(body.token);
    const { tokens } = tokenListSchema.parse(list);
    expect(tokens.map((t) => t.name).sort()).toEqual(["ci pipeline", "test"]);
    const own = tokens.find((t) => t.id === body.id);
    expect(apiTokenSchema.strict().safeParse(own).success).toBe(true);
    expect(own?.lastUsedAt).not.toBeNull();
  });

  test("a token without a name is a 400", async () => {
    const { token } = await createUserWithToken(server, "nameless");
    await expectError(await call("/tokens", { token, body: { name: "  " } }), 400, "bad_request", /name/);
  });

  test("revoking a token: 204, then it no longer works and the list says when", async () => {
    const { token } = await createUserWithToken(server, "revoker");
    const created = createdTokenSchema.parse(await (await call("/tokens", { token, body: { name: "old" } })).json());
    const revoked = await call(`/tokens/${created.id}`, { token, method: "DELETE" });
    expect(revoked.status).toBe(204);
    await expectError(await call("/me", { token: created.token }), 401, "unauthorized", /revoked/);

    const { tokens } = tokenListSchema.parse(await (await call("/tokens", { token })).json());
    expect(tokens.find((t) => t.id === created.id)?.revokedAt).not.toBeNull();
    expect((await call("/me", { token })).status).toBe(200);
  });

  test("another user's token is a 404 and stays valid", async () => {
    const mallory = await createUserWithToken(server, "mallory");
    const alice = await createUserWithToken(server, "alice");
    const aliceToken = await ApiToken.findOne({ where: { userId: alice.user.id } });
    await expectError(
      await call(`/tokens/${aliceToken?.id}`, { token: mallory.token, method: "DELETE" }),
      404,
      "not_found",
    );
    await expectError(await call("/tokens/not-a-number", { token: mallory.token, method: "DELETE" }), 404, "not_found");
    expect((await call("/me", { token: alice.token })).status).toBe(200);
    expect((await ApiToken.findByPk(aliceToken?.id))?.revokedAt).toBeNull();
  });
});

describe("logout", () => {
  test("revokes the token that made the request", async () => {
    const login = sessionTokenResponseSchema.parse(await (await call("/auth/login", { body: ADMIN })).json());
    const response = await call("/auth/logout", { token: login.token, method: "POST" });
    expect(response.status).toBe(204);
    await expectError(await call("/me", { token: login.token }), 401, "unauthorized", /revoked/);
    expect((await ApiToken.findByPk(login.tokenId))?.revokedAt).not.toBeNull();
  });

  test("without a token: 401", async () => {
    await expectError(await call("/auth/logout", { method: "POST" }), 401, "unauthorized");
  });
});
