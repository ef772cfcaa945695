import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import { apiError, worker } from "../../testing/fixtures";
import { API, SERVER, cactus, loggedIn, setupCliTest } from "../../testing/run";

const server = setupCliTest();

const TOKEN = "ccw_0123456789abcdefghijklmnopqrstuv";
const workers = [
  worker(3, "studio-pc", { status: "rendering", blenderVersion: "3.4.1", capabilities: { threads: 16, denoiser: true, sandbox: "bwrap", engines: ["CYCLES", "BLENDER_WORKBENCH"] }, lastSeenAt: "2026-11-24T11:00:00.000Z", wupm: 12.345, wupmMeasuredAt: "2026-11-24T10:30:00.000Z" }),
  worker(4, "Laptop"),
  worker(5, "laptop", { status: "paused", pausedReason: "Blender is open on this machine (blender shot.blend)", capabilities: { sandbox: "off" }, othersUnsandboxed: true }),
  worker(9, "3"),
];

function withWorkers() {
  server.use(http.get(`${API}/workers`, () => HttpResponse.json({ workers })));
}

/** Every PATCH and DELETE of a worker, as `METHOD id body`. */
function recordChanges(): string[] {
  const seen: string[] = [];
  server.use(
    http.patch(`${API}/workers/:id`, async ({ params, request }) => {
      const body = (await request.json()) as object;
      seen.push(`PATCH ${String(params.id)} ${JSON.stringify(body)}`);
      const current = workers.find((candidate) => candidate.id === Number(params.id))!;
      return HttpResponse.json({ ...current, ...body });
    }),
    http.delete(`${API}/workers/:id`, ({ params }) => {
      seen.push(`DELETE ${String(params.id)}`);
      return new HttpResponse(null, { status: 204 });
    }),
  );
  return seen;
}

test("worker create prints the token on stdout, and on stderr the agent command to paste", async () => {
  await loggedIn();
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/workers`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json({ ...worker(3, "studio-pc"), token: TOKEN, agentInstall: `curl -fsSL ${SERVER}/agent/install.sh | sh -s -- --token ${TOKEN}` }, { status: 201 });
    }),
  );
  const human = await cactus(["worker", "create", "studio-pc"]);
  expect(human).toMatchObject({ code: 0, stdout: `${TOKEN}\n` });
  expect(human.stderr).toContain('Created worker 3 "studio-pc"');
  expect(human.stderr).toContain("shown only now");
  expect(human.stderr).toContain(`    curl -fsSL ${SERVER}/agent/install.sh | sh -s -- --token ${TOKEN}\n`);
  expect(human.stderr).not.toContain("npx");
  const json = await cactus(["worker", "create", "studio-pc", "--json"]);
  expect(JSON.parse(json.stdout)).toEqual({
    id: 3,
    name: "studio-pc",
    token: TOKEN,
    agentInstall: `curl -fsSL ${SERVER}/agent/install.sh | sh -s -- --token ${TOKEN}`,
  });
  expect(bodies).toEqual([{ name: "studio-pc" }, { name: "studio-pc" }]);
});

test("worker create of a name in use exits 1 with the server's reason", async () => {
  await loggedIn();
  server.use(
    http.post(`${API}/workers`, () => HttpResponse.json(apiError("conflict", 'You already have a worker named "studio-pc" (worker 3); choose another name.'), { status: 409 })),
  );
  const result = await cactus(["worker", "create", "studio-pc"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('already have a worker named "studio-pc"');
  expect(result.stdout).toBe("");
});

test("worker list prints a table of status and what the agent said, or JSON", async () => {
  await loggedIn();
  withWorkers();
  expect(JSON.parse((await cactus(["worker", "list", "--json"])).stdout)).toEqual({ workers });
  const human = await cactus(["worker", "list"]);
  expect(human.stdout).toMatch(
    /│ id\s+│ name\s+│ status\s+│ enabled │ blender │ threads │ denoiser │ sandbox │ others' files\s+│ engines\s+│ WUPM\s+│ benchmarked\s+│ last seen\s+│/,
  );
  expect(human.stdout).toMatch(/│ 3\s+│ studio-pc │ rendering\s+│ yes\s+│ 3\.4\.1\s+│ 16\s+│ yes\s+│ bwrap\s+│ yes\s+│ Cycles, Workbench │ 12\.35 │ 2026-11-24 10:30 UTC │ 2026-11-24 11:00 UTC │/);
  expect(human.stdout).toMatch(/│ 4\s+│ Laptop\s+│ offline\s+│ yes\s+│ -\s+│ -\s+│ -\s+│ -\s+│ no\s+│ -\s+│ -\s+│ -\s+│ -\s+│/);
  expect(human.stdout).toMatch(/│ 5\s+│ laptop\s+│ paused by its owner │ yes\s+│ -\s+│ -\s+│ -\s+│ off\s+│ yes, unsandboxed │/);
  expect(human.stderr).toContain("laptop is paused by its owner: Blender is open on this machine (blender shot.blend).");
});

test("worker list with no workers says how to add one", async () => {
  await loggedIn();
  server.use(http.get(`${API}/workers`, () => HttpResponse.json({ workers: [] })));
  expect((await cactus(["worker", "list"])).stdout).toContain("cactus worker create NAME");
});

test("worker enable, disable, rename and rm name the worker by id or name", async () => {
  await loggedIn();
  withWorkers();
  const seen = recordChanges();
  expect((await cactus(["worker", "disable", "studio-pc"])).stderr).toContain('Disabled worker 3 "studio-pc"');
  expect((await cactus(["worker", "enable", "3"])).code).toBe(0);
  const renamed = await cactus(["worker", "rename", "Laptop", "old-laptop", "--json"]);
  expect(JSON.parse(renamed.stdout)).toMatchObject({ id: 4, name: "old-laptop" });
  expect(renamed.stderr).toContain('Renamed worker 4 "Laptop" to "old-laptop"');
  const removed = await cactus(["worker", "rm", "laptop", "--json"]);
  expect(JSON.parse(removed.stdout)).toEqual({ id: 5, name: "laptop", removed: true });
  expect(seen).toEqual([
    'PATCH 3 {"enabled":false}',
    'PATCH 3 {"enabled":true}',
    'PATCH 4 {"name":"old-laptop"}',
    "DELETE 5",
  ]);
});

test("worker unsandboxed chooses whose files a worker renders without the sandbox, and says when it makes no difference", async () => {
  await loggedIn();
  withWorkers();
  const seen = recordChanges();
  const others = await cactus(["worker", "unsandboxed", "laptop", "others"]);
  expect(others.code).toBe(0);
  expect(others.stderr).toContain(`Worker 5 "laptop" renders other people's files you accept even without the sandbox`);
  const own = await cactus(["worker", "unsandboxed", "studio-pc", "own", "--json"]);
  expect(JSON.parse(own.stdout)).toMatchObject({ id: 3, othersUnsandboxed: false });
  expect(own.stderr).toContain("Its agent runs Blender in the sandbox now, so it takes the renders you accept either way");
  expect((await cactus(["worker", "unsandboxed", "Laptop", "others"])).stderr).toContain("has not said yet whether it runs Blender in the sandbox");
  const wrong = await cactus(["worker", "unsandboxed", "laptop", "everyone"]);
  expect(wrong.code).toBe(2);
  expect(seen).toEqual(['PATCH 5 {"othersUnsandboxed":true}', 'PATCH 3 {"othersUnsandboxed":false}', 'PATCH 4 {"othersUnsandboxed":true}']);
});

test("an unknown or ambiguous worker exits 4 and changes nothing", async () => {
  await loggedIn();
  withWorkers();
  const seen = recordChanges();
  const unknown = await cactus(["worker", "rm", "desktop"]);
  expect(unknown.code).toBe(4);
  expect(unknown.stderr).toContain('no worker "desktop"; `cactus worker list` shows yours');
  const ambiguous = await cactus(["worker", "disable", "LAPTOP"]);
  expect(ambiguous.code).toBe(4);
  expect(ambiguous.stderr).toContain('"LAPTOP" matches several workers: 4 ("Laptop"), 5 ("laptop"); give the id');
  expect(seen).toEqual([]);
});

test("not signed in exits 3; a refused token exits 3; a missing argument exits 2", async () => {
  const notSignedIn = await cactus(["worker", "list"]);
  expect(notSignedIn.code).toBe(3);
  expect(notSignedIn.stderr).toContain("not logged in");
  await loggedIn();
  server.use(http.get(`${API}/workers`, () => HttpResponse.json(apiError("unauthorized", "This API token was revoked."), { status: 401 })));
  const revoked = await cactus(["worker", "list"]);
  expect(revoked.code).toBe(3);
  expect(revoked.stderr).toContain("This API token was revoked.");
  const usage = await cactus(["worker", "rename", "studio-pc"]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain("cactus worker rename --help");
});
