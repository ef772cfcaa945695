import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiErrorSchema, projectListSchema, projectSchema, type ProjectDto } from "../../contract";
import { ApiToken, Archive, Project, Render, type RenderStatus } from "../../db/models";
import { ArchiveApi, blend, blobKey, expectApiError as expectError, uploaded } from "../helpers/archive-api";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

let server: TestServer;
let api: ArchiveApi;
let owner: { token: string; userId: number };
beforeAll(async () => {
  server = await startTestServer();
  testDatabase(server);
  const created = await createUserWithToken(server, "director");
  owner = { token: created.token, userId: created.user.id };
  api = new ArchiveApi(server, created.token);
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

// Each call here names its token; none means none.
const call = (urlPath: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
  api.call(urlPath, { ...init, token: init.token ?? null });
const createProject = (name: string, token = owner.token) => api.createProject(name, token);
const uploadBlend = async (projectId: number, bytes: Buffer, token = owner.token) =>
  uploaded(await api.upload(projectId, bytes, { token }));

function insertRender(project: ProjectDto, archiveId: number, status: RenderStatus) {
  return Render.create({
    archiveId,
    projectId: project.id,
    createdBy: owner.userId,
    frameStart: 1,
    frameEnd: 10,
    outputFormat: "PNG",
    status,
  });
}

describe("creating and listing projects", () => {
  test("create answers the project with no archives; the list counts each project's archives", async () => {
    const { token, user } = await createUserWithToken(server, "lister");
    const empty = await createProject("Empty one", token);
    expect(empty).toMatchObject({ name: "Empty one", archiveCount: 0 });
    const full = await createProject("  Spring short  ", token);
    expect(full.name).toBe("Spring short");
    await uploadBlend(full.id, blend(100), token);
    await uploadBlend(full.id, blend(200), token);
    await createProject("Not mine");

    const response = await call("/projects", { token });
    expect(response.status).toBe(200);
    const { projects } = projectListSchema.parse(await response.json());
    expect(projects.map(({ name, archiveCount }) => ({ name, archiveCount }))).toEqual([
      { name: "Empty one", archiveCount: 0 },
      { name: "Spring short", archiveCount: 2 },
    ]);
    expect(await Project.count({ where: { userId: user.id } })).toBe(2);

    const one = await call(`/projects/${full.id}`, { token });
    expect(one.status).toBe(200);
    expect(projectSchema.parse(await one.json())).toMatchObject({ id: full.id, archiveCount: 2 });
  });

  test("a second project of the same name (in any case) is a 409 and stores nothing", async () => {
    await createProject("Duplicate me");
    const before = await Project.count();
    await expectError(
      await call("/projects", { token: owner.token, body: { name: "DUPLICATE me" } }),
      409,
      "conflict",
      /already have a project named "DUPLICATE me"; choose another name/,
    );
    expect(await Project.count()).toBe(before);
  });

  test("another user may use the same name", async () => {
    await createProject("Shared name");
    const other = await createUserWithToken(server, "namesake");
    expect((await createProject("Shared name", other.token)).name).toBe("Shared name");
  });

  test("a blank or overlong name is a 400 naming the field, and stores nothing", async () => {
    const before = await Project.count();
    await expectError(
      await call("/projects", { token: owner.token, body: { name: "   " } }),
      400,
      "bad_request",
      /name: Give the project a name/,
    );
    await expectError(
      await call("/projects", { token: owner.token, body: { name: "x".repeat(101) } }),
      400,
      "bad_request",
      /name/,
    );
    await expectError(await call("/projects", { token: owner.token, body: {} }), 400, "bad_request", /name/);
    expect(await Project.count()).toBe(before);
  });

  test("without a token, or with a revoked one: 401", async () => {
    await expectError(await call("/projects"), 401, "unauthorized", /cactus login/);
    await expectError(await call("/projects", { body: { name: "Anonymous" } }), 401, "unauthorized", /Bearer/);
    await expectError(await call("/projects", { token: "cct_never-issued" }), 401, "unauthorized", /not valid/);
    const revoked = await createUserWithToken(server, "revoked-user");
    await ApiToken.update({ revokedAt: new Date() }, { where: { userId: revoked.user.id } });
    await expectError(
      await call("/projects", { token: revoked.token, body: { name: "Anonymous" } }),
      401,
      "unauthorized",
      /revoked/,
    );
    expect(await Project.count({ where: { name: "Anonymous" } })).toBe(0);
  });
});

describe("renaming projects", () => {
  test("answers the project under its new name", async () => {
    const project = await createProject("Working title");
    const response = await call(`/projects/${project.id}`, {
      token: owner.token,
      method: "PATCH",
      body: { name: "Final title" },
    });
    expect(response.status).toBe(200);
    expect(projectSchema.parse(await response.json())).toMatchObject({ id: project.id, name: "Final title" });
    expect((await Project.findByPk(project.id))?.name).toBe("Final title");
  });

  test("to its own name in another case is allowed", async () => {
    const project = await createProject("lowercase");
    const response = await call(`/projects/${project.id}`, { token: owner.token, method: "PATCH", body: { name: "Lowercase" } });
    expect(response.status).toBe(200);
    expect((await Project.findByPk(project.id))?.name).toBe("Lowercase");
  });

  test("to the name of another of my projects is a 409 and changes nothing", async () => {
    await createProject("Taken");
    const project = await createProject("Free");
    await expectError(
      await call(`/projects/${project.id}`, { token: owner.token, method: "PATCH", body: { name: "taken" } }),
      409,
      "conflict",
      /choose another name/,
    );
    expect((await Project.findByPk(project.id))?.name).toBe("Free");
  });

  test("a blank name is a 400 and changes nothing", async () => {
    const project = await createProject("Keeps its name");
    await expectError(
      await call(`/projects/${project.id}`, { token: owner.token, method: "PATCH", body: { name: "" } }),
      400,
      "bad_request",
      /name/,
    );
    expect((await Project.findByPk(project.id))?.name).toBe("Keeps its name");
  });
});

describe("another user's project", () => {
  test("answers 404 to reading, renaming, deleting and listing archives, like a project that never existed", async () => {
    const project = await createProject("Private plans");
    const stranger = await createUserWithToken(server, "stranger");
    const missing = await call(`/projects/999999`, { token: stranger.token });
    const missingBody = apiErrorSchema.parse(await missing.json());
    expect(missing.status).toBe(404);

    const attempts = [
      call(`/projects/${project.id}`, { token: stranger.token }),
      call(`/projects/${project.id}`, { token: stranger.token, method: "PATCH", body: { name: "Mine now" } }),
      call(`/projects/${project.id}`, { token: stranger.token, method: "DELETE" }),
      call(`/projects/${project.id}/archives`, { token: stranger.token }),
    ];
    for (const response of await Promise.all(attempts)) {
      const text = await response.text();
      expect(response.status).toBe(404);
      const { error } = apiErrorSchema.parse(JSON.parse(text));
      expect(error.code).toBe("not_found");
      expect(error.message).toMatch(/cactus project list/);
      // The same words as for an id nobody has: the answer says nothing of the project.
      expect(error.message.replace(String(project.id), "N")).toBe(missingBody.error.message.replace("999999", "N"));
      expect(text).not.toContain("Private plans");
    }
    expect(await Project.findByPk(project.id)).toMatchObject({ name: "Private plans" });
  });

  test("an id that is not a number is a 404", async () => {
    await expectError(await call("/projects/abc", { token: owner.token }), 404, "not_found", /No project abc/);
  });
});

describe("deleting projects", () => {
  test("removes the project, its archives and the blobs nobody else refers to; keeps a shared blob", async () => {
    const doomed = await createProject("Doomed");
    const keeper = await createProject("Keeper");
    const onlyHere = await uploadBlend(doomed.id, blend(3000));
    const shared = await uploadBlend(doomed.id, blend(3001));
    await uploadBlend(keeper.id, blend(3001));
    // A finished render does not hold the project back; it goes with it.
    const finished = await insertRender(doomed, onlyHere.id, "done");
    expect(await api.blobFiles()).toEqual(expect.arrayContaining([blobKey(onlyHere.hash), blobKey(shared.hash)]));

    const response = await call(`/projects/${doomed.id}`, { token: owner.token, method: "DELETE" });
    expect(response.status).toBe(204);

    expect(await Project.findByPk(doomed.id)).toBeNull();
    expect(await Archive.count({ where: { projectId: doomed.id } })).toBe(0);
    expect(await Render.findByPk(finished.id)).toBeNull();
    const files = await api.blobFiles();
    expect(files).not.toContain(blobKey(onlyHere.hash));
    expect(files).toContain(blobKey(shared.hash));
    expect(files.filter((file) => file.startsWith(".tmp"))).toEqual([]);
    await expectError(await call(`/projects/${doomed.id}`, { token: owner.token }), 404, "not_found", /no project/);

    // The keeper's archive still reads, and still has its bytes.
    const { projects } = projectListSchema.parse(await (await call("/projects", { token: owner.token })).json());
    expect(projects.find((project) => project.id === keeper.id)?.archiveCount).toBe(1);
  });

  test("a blob shared with another user's project stays", async () => {
    const bytes = blend(3333);
    const other = await createUserWithToken(server, "coworker");
    const theirs = await createProject("Theirs", other.token);
    const archive = await uploadBlend(theirs.id, bytes, other.token);
    const mine = await createProject("Mine, same bytes");
    await uploadBlend(mine.id, bytes);

    expect((await call(`/projects/${mine.id}`, { token: owner.token, method: "DELETE" })).status).toBe(204);
    expect(await api.blobFiles()).toContain(blobKey(archive.hash));
    const kept = await call(`/archives/${archive.id}`, { token: other.token });
    expect(kept.status).toBe(200);
  });

  test.each<RenderStatus>(["rendering", "queued", "estimating", "paused"])(
    "is refused with 409 while a render is %s, and nothing is removed",
    async (status) => {
      const project = await createProject(`Busy while ${status}`);
      const archive = await uploadBlend(project.id, blend(4000 + status.length));
      await insertRender(project, archive.id, status);

      await expectError(
        await call(`/projects/${project.id}`, { token: owner.token, method: "DELETE" }),
        409,
        "conflict",
        new RegExp(`"Busy while ${status}" has 1 render still running; cancel it first`),
      );
      expect(await Project.findByPk(project.id)).not.toBeNull();
      expect(await Archive.count({ where: { projectId: project.id } })).toBe(1);
      expect(await Render.count({ where: { projectId: project.id } })).toBe(1);
      expect(await api.blobFiles()).toContain(blobKey(archive.hash));
    },
  );

  test("goes through once its running render is cancelled", async () => {
    const project = await createProject("Cancelled later");
    const archive = await uploadBlend(project.id, blend(5000));
    const render = await insertRender(project, archive.id, "rendering");
    expect((await call(`/projects/${project.id}`, { token: owner.token, method: "DELETE" })).status).toBe(409);

    await render.update({ status: "cancelled" });
    expect((await call(`/projects/${project.id}`, { token: owner.token, method: "DELETE" })).status).toBe(204);
    expect(await Project.findByPk(project.id)).toBeNull();
    expect(await api.blobFiles()).not.toContain(blobKey(archive.hash));
  });

  test("an unknown project is a 404", async () => {
    await expectError(await call(`/projects/987654`, { token: owner.token, method: "DELETE" }), 404, "not_found", /project list/);
  });
});
