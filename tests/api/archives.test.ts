import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CONTENT_SHA256_HEADER, apiErrorSchema, archiveListSchema, archiveSchema } from "../../contract";
import { Archive } from "../../db/models";
import { ArchiveApi, blend, blobKey, entry, expectApiError, sha256, uploaded, zip } from "../helpers/archive-api";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// Uploads that are stored, and the same bytes again. Refusals: archives-refused.test.ts.

let server: TestServer;
let api: ArchiveApi;
let blenderDir: string;
const blenderSaved = { plain: "", compressed: "" };
beforeAll(async () => {
  server = await startTestServer();
  testDatabase(server);
  api = new ArchiveApi(server, (await createUserWithToken(server, "uploader")).token);
  // A scene saved by the real Blender, as it is and with "Compress" (zstd since Blender 3.0).
  blenderDir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-blender-saved-"));
  blenderSaved.plain = path.join(blenderDir, "plain.blend");
  blenderSaved.compressed = path.join(blenderDir, "compressed.blend");
  const script =
    "import bpy; " +
    `bpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(blenderSaved.plain)}); ` +
    `bpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(blenderSaved.compressed)}, compress=True, copy=True)`;
  await promisify(execFile)("blender", ["-b", "--factory-startup", "--python-expr", script], { timeout: 60_000 });
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
  if (blenderDir) await fs.rm(blenderDir, { recursive: true, force: true });
});

const newProject = async (token?: string) => (await api.createProject(undefined, token)).id;

describe("uploading a .blend", () => {
  test.each([
    { compression: "none", version: "304", blenderVersion: "3.4" },
    { compression: "gzip", version: "279", blenderVersion: "2.79" },
    { compression: "zstd", version: "402", blenderVersion: "4.2" },
  ] as const)(
    "$compression: 201 with the header's facts, one row and one blob",
    async ({ compression, version, blenderVersion }) => {
      const projectId = await newProject();
      const bytes = blend(5000, { compression, version });
      const archive = await uploaded(await api.upload(projectId, bytes, { filename: "shot.blend" }));
      expect(archive).toMatchObject({
        projectId,
        filename: "shot.blend",
        hash: sha256(bytes),
        size: bytes.length,
        kind: "blend",
        mainPath: null,
        deduplicated: false,
        facts: { blenderVersion, compression },
      });
      expect(await Archive.count({ where: { projectId } })).toBe(1);
      expect(await api.blobsOf(archive.hash)).toEqual([blobKey(archive.hash)]);
      const stored = await fs.readFile(path.join(server.dataDir, "blobs", blobKey(archive.hash)));
      expect(stored.equals(bytes)).toBe(true);
    },
  );

  test("saved by the real Blender 3.4, plain and compressed (zstd)", async () => {
    const projectId = await newProject();
    const bytes = await fs.readFile(blenderSaved.plain);
    const archive = await uploaded(await api.upload(projectId, bytes, { headers: { [CONTENT_SHA256_HEADER]: sha256(bytes) } }));
    expect(archive).toMatchObject({ kind: "blend", size: bytes.length, facts: { blenderVersion: "3.4", compression: "none" } });
    const compressed = await fs.readFile(blenderSaved.compressed);
    const zstd = await uploaded(await api.upload(projectId, compressed));
    expect(zstd.facts).toMatchObject({ blenderVersion: "3.4", compression: "zstd" });
    // In a zip, the facts come from the zip's entry.
    const zipped = await uploaded(await api.upload(projectId, zip(entry("shots/a.blend", compressed, { method: "deflate" }))));
    expect(zipped).toMatchObject({
      kind: "zip",
      mainPath: "shots/a.blend",
      facts: { blenderVersion: "3.4", compression: "zstd" },
    });
  });

  test("a declared X-Content-Sha256 that matches is accepted", async () => {
    const bytes = blend(777);
    const archive = await uploaded(
      await api.upload(await newProject(), bytes, { headers: { [CONTENT_SHA256_HEADER]: sha256(bytes).toUpperCase() } }),
    );
    expect(archive.hash).toBe(sha256(bytes));
  });

  test("the project's archive list and GET /archives/:id show it", async () => {
    const projectId = await newProject();
    const first = await uploaded(await api.upload(projectId, blend(100), { filename: "a.blend" }));
    const second = await uploaded(await api.upload(projectId, blend(101), { filename: "b.blend" }));
    const { archives } = archiveListSchema.parse(await (await api.call(`/projects/${projectId}/archives`)).json());
    expect(archives.map((archive) => archive.id)).toEqual([second.id, first.id]);
    const one = await api.call(`/archives/${first.id}`);
    expect(one.status).toBe(200);
    expect(archiveSchema.parse(await one.json())).toMatchObject({ id: first.id, filename: "a.blend", hash: first.hash });
  });
});

describe("uploading a .zip", () => {
  test("with one .blend: it is the main one, its facts are the archive's", async () => {
    const archive = await uploaded(
      await api.upload(
        await newProject(),
        zip(
          entry("textures/wood.png"),
          entry("scenes/shot.blend", blend(900, { compression: "gzip", version: "293" }), { method: "deflate" }),
        ),
        {
          filename: "shot.zip",
        },
      ),
    );
    expect(archive).toMatchObject({
      kind: "zip",
      mainPath: "scenes/shot.blend",
      facts: { blenderVersion: "2.93", compression: "gzip" },
    });
  });

  test("with two .blend files and `main`: that one's facts", async () => {
    const bytes = zip(entry("a.blend", blend(300, { version: "280" })), entry("dir/b.blend", blend(300, { version: "306" })));
    const archive = await uploaded(await api.upload(await newProject(), bytes, { filename: "two.zip", main: "./dir/b.blend" }));
    expect(archive).toMatchObject({ kind: "zip", mainPath: "dir/b.blend", facts: { blenderVersion: "3.6" } });
  });

  test("with two .blend files and no `main`: 422 naming both, nothing stored", async () => {
    const projectId = await newProject();
    const bytes = zip(entry("a.blend", blend(300)), entry("dir/b.blend", blend(301)));
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /several \.blend files \(a\.blend, dir\/b\.blend\).*--main/,
    );
  });

  test("with a `main` it does not hold: 422 listing what it holds, nothing stored", async () => {
    const projectId = await newProject();
    const bytes = zip(entry("a.blend", blend(300)), entry("b.blend", blend(301)));
    await api.expectRefused(
      () => api.upload(projectId, bytes, { main: "c.blend" }),
      422,
      "unprocessable",
      /no "c\.blend"; its \.blend files are: a\.blend, b\.blend/,
    );
  });

  test("macOS resource forks are not counted as scenes", async () => {
    const bytes = zip(entry("scene.blend", blend(300)), entry("__MACOSX/._scene.blend", Buffer.from("fork")));
    expect(await uploaded(await api.upload(await newProject(), bytes))).toMatchObject({ mainPath: "scene.blend" });
  });
});

describe("deduplication", () => {
  test("the same bytes twice into one project: the second answer is the first archive, no new row", async () => {
    const projectId = await newProject();
    const bytes = blend(1234);
    const first = await uploaded(await api.upload(projectId, bytes));
    const again = await uploaded(await api.upload(projectId, bytes, { filename: "renamed.blend" }), 200);
    expect(again).toMatchObject({ id: first.id, deduplicated: true, filename: first.filename });
    expect(await Archive.count({ where: { projectId } })).toBe(1);
    expect(await api.blobsOf(first.hash)).toHaveLength(1);
    expect((await api.blobFiles()).filter((name) => name.startsWith(".tmp/"))).toEqual([]);
  });

  test("by hash, into another of my projects: 201 with no bytes sent, the same blob", async () => {
    const source = await newProject();
    const bytes = zip(entry("a.blend", blend(400, { version: "305" })), entry("b.blend", blend(400, { version: "306" })));
    const original = await uploaded(await api.upload(source, bytes, { filename: "pack.zip", main: "a.blend" }));

    const target = await newProject();
    const response = await api.call(`/projects/${target}/archives/dedupe`, {
      body: { sha256: original.hash, filename: "pack.zip" },
    });
    const added = await uploaded(response, 201);
    expect(added).toMatchObject({
      projectId: target,
      hash: original.hash,
      kind: "zip",
      mainPath: "a.blend",
      deduplicated: true,
      facts: { blenderVersion: "3.5" },
    });
    expect(added.id).not.toBe(original.id);
    expect(await api.blobsOf(original.hash)).toHaveLength(1);
    const rows = await Archive.findAll({ where: { hash: original.hash } });
    expect(new Set(rows.map((row) => row.storageKey)).size).toBe(1);

    // Another main .blend of the same zip is checked as an upload would be.
    const third = await newProject();
    const otherMain = await api.call(`/projects/${third}/archives/dedupe`, {
      body: { sha256: original.hash, filename: "pack.zip", mainPath: "b.blend" },
    });
    const thirdArchive = await uploaded(otherMain, 201);
    expect(thirdArchive).toMatchObject({ mainPath: "b.blend", facts: { blenderVersion: "3.6" } });
    const fourth = await newProject();
    await api.expectRefused(
      () =>
        api.call(`/projects/${fourth}/archives/dedupe`, {
          body: { sha256: original.hash, filename: "p.zip", mainPath: "c.blend" },
        }),
      422,
      "unprocessable",
      /no "c\.blend"; its \.blend files are: a\.blend, b\.blend/,
    );
    expect(await api.blobsOf(original.hash)).toHaveLength(1);

    // Asked again with the same main .blend: the archive the project has, no new row.
    const again = await api.call(`/projects/${third}/archives/dedupe`, {
      body: { sha256: original.hash, filename: "pack.zip", mainPath: "./b.blend" },
    });
    expect(await uploaded(again, 200)).toMatchObject({ id: thirdArchive.id, deduplicated: true });
  });

  test("the same zip with another main .blend, into a project that holds it: 409, by hash or by upload", async () => {
    const projectId = await newProject();
    const bytes = zip(entry("a.blend", blend(500)), entry("b.blend", blend(501)));
    const held = await uploaded(await api.upload(projectId, bytes, { filename: "pack.zip", main: "a.blend" }));
    const conflict =
      /already holds this zip as archive \d+ \("pack\.zip"\), with "a\.blend" as its main \.blend\. To render "b\.blend" from it, add it to another project/;
    await api.expectRefused(
      () => api.upload(projectId, bytes, { filename: "pack.zip", main: "b.blend" }),
      409,
      "conflict",
      conflict,
    );
    await api.expectRefused(
      () =>
        api.call(`/projects/${projectId}/archives/dedupe`, {
          body: { sha256: held.hash, filename: "pack.zip", mainPath: "b.blend" },
        }),
      409,
      "conflict",
      conflict,
    );
    // Without `main`, or with the one it has, it is the same archive.
    expect(await uploaded(await api.upload(projectId, bytes), 200)).toMatchObject({ id: held.id, mainPath: "a.blend" });
  });

  test("by a hash only another user has: 404, the same answer as for bytes nobody has", async () => {
    const other = await createUserWithToken(server, "secret-keeper");
    const bytes = blend(4321);
    await uploaded(await api.upload(await newProject(other.token), bytes, { token: other.token }));
    const projectId = await newProject();

    const theirs = await api.call(`/projects/${projectId}/archives/dedupe`, {
      body: { sha256: sha256(bytes), filename: "x.blend" },
    });
    const theirsError = apiErrorSchema.parse(await theirs.json());
    expect(theirs.status).toBe(404);
    expect(theirsError.error.message).toMatch(/no file with sha256 [0-9a-f]{64} of yours; upload the bytes/);
    const nobodys = "0".repeat(64);
    const unknown = await api.call(`/projects/${projectId}/archives/dedupe`, { body: { sha256: nobodys, filename: "x.blend" } });
    expect(unknown.status).toBe(404);
    const unknownError = apiErrorSchema.parse(await unknown.json());
    expect(theirsError.error.message.replace(sha256(bytes), "H")).toBe(unknownError.error.message.replace(nobodys, "H"));
    expect(await Archive.count({ where: { projectId } })).toBe(0);
  });

  test("by the hash of bytes lost from the blob store: 404, so the client uploads them again", async () => {
    const bytes = blend(2468);
    const first = await uploaded(await api.upload(await newProject(), bytes));
    await fs.rm(path.join(server.dataDir, "blobs", blobKey(first.hash)));

    const projectId = await newProject();
    const asked = await api.call(`/projects/${projectId}/archives/dedupe`, { body: { sha256: first.hash, filename: "x.blend" } });
    await expectApiError(asked, 404, "not_found", /upload the bytes/);
    expect(await Archive.count({ where: { projectId } })).toBe(0);
    await uploaded(await api.upload(projectId, bytes), 201);
    expect(await api.blobsOf(first.hash)).toEqual([blobKey(first.hash)]);
  });

  test("a bad dedupe request is a 400 naming the field", async () => {
    const projectId = await newProject();
    await api.expectRefused(
      () => api.call(`/projects/${projectId}/archives/dedupe`, { body: { sha256: "xyz", filename: "a.blend" } }),
      400,
      "bad_request",
      /sha256: A sha256 is 64 lowercase hex digits/,
    );
  });

  test("another user's archive is a 404, like one that never existed", async () => {
    const other = await createUserWithToken(server, "private-person");
    const archive = await uploaded(await api.upload(await newProject(other.token), blend(999), { token: other.token }));
    const response = await api.call(`/archives/${archive.id}`);
    const text = await response.text();
    expect(response.status).toBe(404);
    expect(apiErrorSchema.parse(JSON.parse(text)).error).toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/no archive/),
    });
    expect(text).not.toContain(archive.hash);
    expect((await api.call(`/archives/${archive.id}`, { token: other.token })).status).toBe(200);
  });
});
