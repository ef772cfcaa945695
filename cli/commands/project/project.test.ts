import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import { apiError, project } from "../../testing/fixtures";
import { API, cactus, loggedIn, setupCliTest } from "../../testing/run";

const server = setupCliTest();

const projects = [project(3, "Spring short"), project(4, "spring SHORT"), project(12, "Lamp"), project(20, "12")];

function withProjects() {
  server.use(http.get(`${API}/projects`, () => HttpResponse.json({ projects })));
}

test("project create posts the name and prints the id, or the project as JSON", async () => {
  await loggedIn();
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/projects`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json(project(3, "Spring short"), { status: 201 });
    }),
  );
  const json = await cactus(["project", "create", "Spring short", "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual(project(3, "Spring short"));
  const human = await cactus(["project", "create", "Spring short"]);
  expect(human.stdout).toBe("3\n");
  expect(human.stderr).toContain('Created project 3 "Spring short"');
  expect(bodies).toEqual([{ name: "Spring short" }, { name: "Spring short" }]);
});

test("project create of a duplicate name exits 1 with the server's message", async () => {
  await loggedIn();
  server.use(
    http.post(`${API}/projects`, () => HttpResponse.json(apiError("conflict", 'You already have a project "Lamp".'), { status: 409 })),
  );
  const result = await cactus(["project", "create", "Lamp"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('You already have a project "Lamp".');
});

test("project list prints a table, or JSON", async () => {
  await loggedIn();
  withProjects();
  expect(JSON.parse((await cactus(["project", "list", "--json"])).stdout)).toEqual({ projects });
  const human = await cactus(["project", "list"]);
  expect(human.stdout).toMatch(/│ id\s+│ name\s+│ archives │ created\s+│/);
  expect(human.stdout).toMatch(/│ 12\s+│ Lamp\s+│ 0\s+│ 2026-11-24 10:00 UTC │/);
});

function recordDeletes(): string[] {
  const deleted: string[] = [];
  server.use(
    http.delete(`${API}/projects/:id`, ({ params }) => {
      deleted.push(String(params.id));
      return new HttpResponse(null, { status: 204 });
    }),
  );
  return deleted;
}

test("project rm resolves an id, an exact name or a unique case-insensitive name", async () => {
  await loggedIn();
  withProjects();
  const deleted = recordDeletes();
  expect((await cactus(["project", "rm", "12"])).code).toBe(0);
  expect((await cactus(["project", "rm", "Spring short"])).code).toBe(0);
  expect((await cactus(["project", "rm", "lamp"])).code).toBe(0);
  const json = await cactus(["project", "rm", "20", "--json"]);
  expect(JSON.parse(json.stdout)).toEqual({ id: 20, name: "12", deleted: true });
  expect(deleted).toEqual(["12", "3", "12", "20"]);
});

test("project rm of an unknown or ambiguous name exits 4 and deletes nothing", async () => {
  await loggedIn();
  withProjects();
  const deleted = recordDeletes();
  const unknown = await cactus(["project", "rm", "Nope"]);
  expect(unknown.code).toBe(4);
  expect(unknown.stderr).toContain('no project "Nope"');
  const ambiguous = await cactus(["project", "rm", "SPRING short"]);
  expect(ambiguous.code).toBe(4);
  expect(ambiguous.stderr).toContain("matches several projects: 3");
  expect(deleted).toEqual([]);
});

test("project rm refused by the server (a render runs) exits 1 with its reason", async () => {
  await loggedIn();
  withProjects();
  server.use(
    http.delete(`${API}/projects/:id`, () =>
      HttpResponse.json(apiError("conflict", "A render of this project is running; cancel it first."), { status: 409 }),
    ),
  );
  const result = await cactus(["project", "rm", "Lamp"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("cancel it first");
});

test("project rename patches the resolved project with the new name", async () => {
  await loggedIn();
  withProjects();
  const patches: unknown[] = [];
  server.use(
    http.patch(`${API}/projects/:id`, async ({ params, request }) => {
      patches.push({ id: params.id, body: await request.json() });
      return HttpResponse.json(project(12, "Desk lamp"));
    }),
  );
  const result = await cactus(["project", "rename", "Lamp", "Desk lamp", "--json"]);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual(project(12, "Desk lamp"));
  expect(patches).toEqual([{ id: "12", body: { name: "Desk lamp" } }]);
});

test("project rename with one argument is a usage error", async () => {
  await loggedIn();
  const result = await cactus(["project", "rename", "Lamp"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("cactus project rename --help");
});
