import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import { CREATED_AT, apiError } from "../../testing/fixtures";
import { API, cactus, loggedIn, setupCliTest } from "../../testing/run";

const server = setupCliTest();

const ciToken = { id: 4, name: "ci", createdAt: CREATED_AT, lastUsedAt: null, revokedAt: null };

test("token create posts the name and prints the token once: alone on stdout, or as JSON", async () => {
  await loggedIn();
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/tokens`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json({ ...ciToken, token: "cct_secret" }, { status: 201 });
    }),
  );
  const human = await cactus(["token", "create", "--name", "ci"]);
  expect(human.code).toBe(0);
  expect(human.stdout).toBe("cct_secret\n");
  expect(human.stderr).toContain("shown only now");
  const json = await cactus(["token", "create", "--name", "ci", "--json"]);
  expect(JSON.parse(json.stdout)).toMatchObject({ id: 4, token: "cct_secret" });
  expect(bodies).toEqual([{ name: "ci" }, { name: "ci" }]);
});

test("token create without --name is a usage error (exit 2) that points to --help", async () => {
  await loggedIn();
  const result = await cactus(["token", "create"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("Missing required argument: name");
  expect(result.stderr).toContain("cactus token create --help");
});

test("token list prints a table, or the list as JSON", async () => {
  await loggedIn();
  const list = { tokens: [ciToken, { ...ciToken, id: 5, name: "laptop", revokedAt: CREATED_AT }] };
  server.use(http.get(`${API}/tokens`, () => HttpResponse.json(list)));
  const json = await cactus(["token", "list", "--json"]);
  expect(JSON.parse(json.stdout)).toEqual(list);
  const human = await cactus(["token", "list"]);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/id.*name.*created.*last used.*revoked/);
  expect(human.stdout).toMatch(/│ 5\s+│ laptop\s+│ 2026-11-24 10:00 UTC │ -\s+│ 2026-11-24 10:00 UTC │/);
  expect(human.stdout).not.toContain("\u001b[");
});

test("token revoke deletes by id; an unknown one exits 4; a non-number exits 2", async () => {
  await loggedIn();
  const deleted: string[] = [];
  server.use(
    http.delete(`${API}/tokens/:id`, ({ params }) => {
      deleted.push(String(params.id));
      if (params.id === "9") return HttpResponse.json(apiError("not_found", "No token 9."), { status: 404 });
      return new HttpResponse(null, { status: 204 });
    }),
  );
  const ok = await cactus(["token", "revoke", "4"]);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toContain("Token 4 revoked");
  const json = await cactus(["token", "revoke", "4", "--json"]);
  expect(JSON.parse(json.stdout)).toEqual({ id: 4, revoked: true });
  const missing = await cactus(["token", "revoke", "9"]);
  expect(missing.code).toBe(4);
  expect(missing.stderr).toContain("No token 9.");
  const bad = await cactus(["token", "revoke", "ci"]);
  expect(bad.code).toBe(2);
  expect(deleted).toEqual(["4", "4", "9"]);
});
