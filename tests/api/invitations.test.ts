import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  apiErrorSchema,
  createdInvitationSchema,
  invitationListSchema,
  sessionTokenResponseSchema,
  userSchema,
} from "../../contract";
import { Account, Invitation, LedgerEntry, User } from "../../db/models";
import { hashSecret } from "../../app/lib/secrets.server";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

let server: TestServer;
let inviter: { user: User; token: string };
beforeAll(async () => {
  server = await startTestServer({ CACTUS_TRUST_PROXY: "1", CACTUS_PUBLIC_URL: "https://farm.example/" });
  testDatabase(server);
  inviter = await createUserWithToken(server, "inviter");
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

let nextIp = 1;
const freshIp = () => `203.0.113.${nextIp++}`;

function call(path: string, init: { token?: string; body?: unknown; ip?: string } = {}) {
  const headers: Record<string, string> = { "X-Forwarded-For": init.ip ?? freshIp() };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(`${server.url}/api/v1${path}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function expectError(response: Response, status: number, code: string, message: RegExp) {
  expect(response.status).toBe(status);
  const body = apiErrorSchema.parse(await response.json());
  expect(body.error).toMatchObject({ code });
  expect(body.error.message).toMatch(message);
}

async function invite(email = "friend@example.com") {
  const response = await call("/invitations", { token: inviter.token, body: { email } });
  expect(response.status).toBe(201);
  return createdInvitationSchema.parse(await response.json());
}

const signup = (invite: string, username: string, ip?: string) =>
  call("/auth/signup", { ip, body: { invite, username, password: "a long enough password" } });

describe("creating invitations", () => {
  test("answers a one-time code and a link on the public URL; only the code's hash is stored", async () => {
    const created = await invite("ada@example.com");
    expect(created.code).toMatch(/^cci_/);
    expect(created.url).toBe(`https://farm.example/signup?code=${created.code}`);
    expect(created).toMatchObject({ email: "ada@example.com", usedAt: null, usedBy: null, credits: 100 });
    const hoursLeft = (Date.parse(created.expiresAt) - Date.now()) / 3600_000;
    expect(hoursLeft).toBeGreaterThan(7 * 24 - 1);
    expect(hoursLeft).toBeLessThanOrEqual(7 * 24);

    const row = await Invitation.findByPk(created.id);
    expect(row?.codeHash).toBe(hashSecret(created.code));
    expect(JSON.stringify(row?.toJSON())).not.toContain(created.code);
  });

  test("a bad email is a 400 and nothing is stored", async () => {
    const before = await Invitation.count();
    await expectError(await call("/invitations", { token: inviter.token, body: { email: "nope" } }), 400, "bad_request", /email/);
    expect(await Invitation.count()).toBe(before);
  });

  test("needs a signed-in user", async () => {
    await expectError(await call("/invitations", { body: { email: "x@example.com" } }), 401, "unauthorized", /sign in/i);
  });

  test("the list holds my invitations only, never their codes", async () => {
    const mine = await invite("listed@example.com");
    const other = await createUserWithToken(server, "other-inviter");
    await call("/invitations", { token: other.token, body: { email: "theirs@example.com" } });

    const listed = await call("/invitations", { token: inviter.token });
    expect(listed.status).toBe(200);
    const raw = await listed.json();
    expect(JSON.stringify(raw)).not.toContain(mine.code);
    const emails = invitationListSchema.parse(raw).invitations.map((invitation) => invitation.email);
    expect(emails).toContain("listed@example.com");
    expect(emails).not.toContain("theirs@example.com");
  });
});

describe("signing up", () => {
  test("redeems the invitation: the account, a token, the starting credits in the ledger", async () => {
    const { code, id } = await invite();
    const response = await signup(code, "newcomer");
    expect(response.status).toBe(201);
    const session = sessionTokenResponseSchema.parse(await response.json());
    expect(session.user).toMatchObject({ username: "newcomer", role: "user", credits: 100 });

    const me = userSchema.parse(await (await call("/me", { token: session.token })).json());
    expect(me.credits).toBe(100);

    const account = await Account.findOne({ where: { kind: "user", userId: session.user.id } });
    const system = await Account.findOne({ where: { kind: "system" } });
    const grants = await LedgerEntry.findAll({ where: { toAccountId: account!.id } });
    expect(grants.map((entry) => ({ from: entry.fromAccountId, amount: entry.amountMilli, reason: entry.reason }))).toEqual([
      { from: system!.id, amount: 100_000, reason: "grant" },
    ]);
    expect(account!.balanceMilli).toBe(100_000);
    // Double entry: what the users hold came out of the system account.
    const userTotal = await Account.sum("balanceMilli", { where: { kind: "user" } });
    expect(Number(system!.balanceMilli) + Number(userTotal)).toBe(0);

    const { invitations } = invitationListSchema.parse(await (await call("/invitations", { token: inviter.token })).json());
    expect(invitations.find((invitation) => invitation.id === id)).toMatchObject({ usedBy: "newcomer" });
    expect(invitations.find((invitation) => invitation.id === id)?.usedAt).not.toBeNull();
  });

  test("an invitation grants the credits it said when it was made, and one from before that the farm's setting", async () => {
    const { code, id } = await invite();
    await Invitation.update({ creditsMilli: 250_500 }, { where: { id } });
    const { invitations } = invitationListSchema.parse(await (await call("/invitations", { token: inviter.token })).json());
    expect(invitations.find((invitation) => invitation.id === id)?.credits).toBe(250.5);
    const joined = sessionTokenResponseSchema.parse(await (await signup(code, "well-funded")).json());
    expect(joined.user.credits).toBe(250.5);

    const older = await invite();
    await Invitation.update({ creditsMilli: null }, { where: { id: older.id } });
    const listed = invitationListSchema.parse(await (await call("/invitations", { token: inviter.token })).json());
    expect(listed.invitations.find((invitation) => invitation.id === older.id)?.credits).toBe(100);
    expect(sessionTokenResponseSchema.parse(await (await signup(older.code, "from-before")).json()).user.credits).toBe(100);
  });

  test("a used invitation is refused and creates no user", async () => {
    const { code } = await invite();
    expect((await signup(code, "first-one")).status).toBe(201);
    const users = await User.count();
    await expectError(await signup(code, "second-one"), 409, "conflict", /already used.*new one/);
    expect(await User.count()).toBe(users);
  });

  test("an expired invitation is refused and creates no user", async () => {
    const { code, id } = await invite();
    await Invitation.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id } });
    const users = await User.count();
    await expectError(await signup(code, "too-late"), 409, "conflict", /expired.*new one/);
    expect(await User.count()).toBe(users);
    expect((await Invitation.findByPk(id))?.usedAt).toBeNull();
  });

  test("an unknown code is a 404 and creates no user", async () => {
    const users = await User.count();
    await expectError(await signup("cci_nothing-like-this", "guesser"), 404, "not_found", /no invitation/i);
    expect(await User.count()).toBe(users);
  });

  test("a taken username (in any case) is a 409, creates no row, and leaves the invitation usable", async () => {
    const { code, id } = await invite();
    const users = await User.count();
    const ledger = await LedgerEntry.count();
    await expectError(await signup(code, "INVITER"), 409, "conflict", /taken; choose another/);
    expect(await User.count()).toBe(users);
    expect(await LedgerEntry.count()).toBe(ledger);
    expect((await Invitation.findByPk(id))?.usedAt).toBeNull();
    expect((await signup(code, "inviter-2")).status).toBe(201);
  });

  test("a username or password that breaks the rules is a 400 saying the rule", async () => {
    const { code } = await invite();
    const users = await User.count();
    await expectError(await signup(code, "no spaces allowed"), 400, "bad_request", /username/);
    const short = await call("/auth/signup", { body: { invite: code, username: "shorty", password: "short" } });
    await expectError(short, 400, "bad_request", /at least 10 characters/);
    expect(await User.count()).toBe(users);
  });

  test("signing up is limited to 10 attempts an hour per address", async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) expect((await signup(`cci_unknown-${i}`, `someone-${i}`, ip)).status).toBe(404);
    const { code } = await invite();
    const blocked = await signup(code, "patient", ip);
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectError(blocked, 429, "rate_limited", /try again/);
    expect((await signup(code, "patient")).status).toBe(201);
  });
});
