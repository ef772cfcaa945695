import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import { CREATED_AT, apiError } from "../../testing/fixtures";
import { API, cactus, loggedIn, setupCliTest } from "../../testing/run";

const server = setupCliTest();

const invitation = {
  id: 2,
  email: "ada@example.com",
  expiresAt: "2026-12-01T10:00:00.000Z",
  usedAt: null,
  usedBy: null,
  credits: 100,
  createdAt: CREATED_AT,
};

test("invite create posts the email and prints code and link", async () => {
  await loggedIn();
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/invitations`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json({ ...invitation, code: "cci_code", url: "http://cactus.test/signup?code=cci_code" }, { status: 201 });
    }),
  );
  const json = await cactus(["invite", "create", "--email", "ada@example.com", "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ code: "cci_code", url: "http://cactus.test/signup?code=cci_code" });
  const human = await cactus(["invite", "create", "--email", "ada@example.com"]);
  expect(human.stdout).toBe("code: cci_code\nlink: http://cactus.test/signup?code=cci_code\n");
  expect(human.stderr).toContain("it works once, until 2026-12-01 10:00 UTC, and comes with 100 credits.");
  expect(bodies).toEqual([{ email: "ada@example.com" }, { email: "ada@example.com" }]);
});

test("invite create by a user who may not invite exits 3", async () => {
  await loggedIn();
  server.use(http.post(`${API}/invitations`, () => HttpResponse.json(apiError("forbidden", "Only admins invite."), { status: 403 })));
  const result = await cactus(["invite", "create", "--email", "ada@example.com"]);
  expect(result.code).toBe(3);
  expect(result.stderr).toContain("Only admins invite.");
});

test("invite list prints a table (or a hint when empty), or JSON", async () => {
  await loggedIn();
  let list = { invitations: [{ ...invitation, usedBy: "ada", usedAt: CREATED_AT }] };
  server.use(http.get(`${API}/invitations`, () => HttpResponse.json(list)));
  expect(JSON.parse((await cactus(["invite", "list", "--json"])).stdout)).toEqual(list);
  const human = await cactus(["invite", "list"]);
  expect(human.stdout).toMatch(/│ 2\s+│ ada@example.com │ 100\s+│ 2026-12-01 10:00 UTC │ ada\s+│ 2026-11-24 10:00 UTC │/);
  list = { invitations: [] };
  expect((await cactus(["invite", "list"])).stdout).toContain("No invitations yet");
});
