import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CONTENT_SHA256_HEADER } from "../../contract";
import { ApiToken } from "../../db/models";
import { ArchiveApi, blend, entry, sendOver, sha256, streamOf, uploaded, waitFor, zip } from "../helpers/archive-api";
import { SYMLINK_MODE, unixMode } from "../helpers/fixtures";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// Each bad upload gets its answer, and leaves no archive row, no blob and no temporary file.

// Small limits, so each one can be crossed with a few bytes.
const MAX_ARCHIVE_BYTES = 2 * 1024 * 1024;
const MAX_UNPACKED_BYTES = 2 * 1024 * 1024;
const MAX_ZIP_ENTRIES = 20;

let server: TestServer;
let api: ArchiveApi;
let projectId: number;
beforeAll(async () => {
  server = await startTestServer({
    CACTUS_MAX_ARCHIVE_BYTES: String(MAX_ARCHIVE_BYTES),
    CACTUS_MAX_UNPACKED_BYTES: String(MAX_UNPACKED_BYTES),
    CACTUS_MAX_ZIP_ENTRIES: String(MAX_ZIP_ENTRIES),
  });
  testDatabase(server);
  api = new ArchiveApi(server, (await createUserWithToken(server, "uploader")).token);
  projectId = (await api.createProject()).id;
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

describe("refused uploads store nothing", () => {
  test("a file that is neither a .blend nor a .zip: 422", async () => {
    await api.expectRefused(
      () => api.upload(projectId, Buffer.from("Just some notes about the shot, not a scene.\n"), { filename: "notes.txt" }),
      422,
      "unprocessable",
      /"notes\.txt" is not a \.blend or \.zip.*Upload the scene saved from Blender/,
    );
  });

  test("a damaged gzip and a zstd header asking for a 2 TiB window are not .blend files: 422", async () => {
    const damagedGzip = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(200, 0x55)]);
    await api.expectRefused(() => api.upload(projectId, damagedGzip), 422, "unprocessable", /is not a \.blend or \.zip/);
    const hugeWindow = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8]), Buffer.alloc(200)]);
    await api.expectRefused(() => api.upload(projectId, hugeWindow), 422, "unprocessable", /is not a \.blend or \.zip/);
  });

  test("an empty file, with Content-Length 0 or chunked: 422", async () => {
    await api.expectRefused(
      () => api.upload(projectId, Buffer.alloc(0)),
      422,
      "unprocessable",
      /empty; choose the \.blend or \.zip/,
    );
    await api.expectRefused(() => api.upload(projectId, streamOf(0)), 422, "unprocessable", /empty/);
  });

  test("bytes that do not match the declared X-Content-Sha256: 422", async () => {
    const bytes = blend(2000);
    const declared = sha256(Buffer.concat([bytes, Buffer.from("x")]));
    await api.expectRefused(
      () => api.upload(projectId, bytes, { headers: { [CONTENT_SHA256_HEADER]: declared } }),
      422,
      "unprocessable",
      new RegExp(`sha256 ${sha256(bytes)}, not the ${declared} declared.*Nothing was stored; upload it again`),
    );
  });

  test("an X-Content-Sha256 that is not a sha256: 400", async () => {
    await api.expectRefused(
      () => api.upload(projectId, blend(2000), { headers: { [CONTENT_SHA256_HEADER]: "abc" } }),
      400,
      "bad_request",
      /must be 64 hex digits/,
    );
  });

  // The first half of a .blend still reads as one, so only noticing the cut keeps it out.
  test.each([
    ["with a Content-Length", (bytes: Buffer) => ({ "Content-Length": String(bytes.length) })],
    ["chunked", () => ({ "Transfer-Encoding": "chunked" })],
  ])("an upload cut off mid-body (%s): the temporary file goes and no row is written", async (_, framing) => {
    const before = await api.storedState();
    const bytes = blend(600_000 + before.archives);
    const request = http.request(api.uploadUrl(projectId), {
      method: "POST",
      headers: { ...api.uploadHeaders(), ...framing(bytes) },
    });
    request.on("error", () => undefined); // the connection is broken on purpose
    request.write(bytes.subarray(0, 300_000));
    const receiving = async () => (await api.blobFiles()).some((name) => name.startsWith(".tmp/"));
    await waitFor(receiving, "the server is writing the upload to a temporary file");
    request.destroy();

    await waitFor(async () => !(await receiving()), "the temporary file is removed");
    expect(await api.storedState()).toEqual(before);
    // The server carries on.
    expect((await uploaded(await api.upload(projectId, bytes))).size).toBe(bytes.length);
  });

  test.each([
    ["../x.blend", /climbs out of its folder with "\.\."/],
    ["scenes/../../x.blend", /climbs out/],
    ["scenes\\..\\..\\x.blend", /climbs out/],
    ["/etc/x.blend", /has an absolute path; zip the files with paths relative/],
    ["C:\\x.blend", /has an absolute path/],
  ])("a zip entry named %s (zip slip): 422", async (name, message) => {
    const bytes = zip(entry("scene.blend", blend(300)), entry(name, blend(301)));
    await api.expectRefused(() => api.upload(projectId, bytes, { filename: "slip.zip" }), 422, "unprocessable", message);
  });

  test("a zip with a symbolic link: 422", async () => {
    const bytes = zip(
      entry("scene.blend", blend(300)),
      entry("textures/wood.png", Buffer.from("/etc/passwd"), { externalAttributes: unixMode(SYMLINK_MODE) }),
    );
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /"textures\/wood\.png" is a symbolic link.*without --symlinks/,
    );
  });

  test("a zip with an encrypted entry: 422", async () => {
    const bytes = zip(entry("scene.blend", blend(300), { encrypted: true }));
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /is encrypted; upload a zip without a password/,
    );
  });

  test("a zip with more entries than the limit: 422", async () => {
    const entries = Array.from({ length: MAX_ZIP_ENTRIES }, (_, index) => entry(`textures/${index}.png`));
    const bytes = zip(entry("scene.blend", blend(300)), ...entries);
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      new RegExp(`has ${MAX_ZIP_ENTRIES + 1} entries; the limit is ${MAX_ZIP_ENTRIES}.*CACTUS_MAX_ZIP_ENTRIES`),
    );
  });

  test("a zip declaring more unpacked bytes than the limit: 422", async () => {
    const bytes = zip(
      entry("scene.blend", blend(300)),
      entry("huge.exr", Buffer.from("small"), { method: "deflate", declaredSize: MAX_UNPACKED_BYTES + 1 }),
    );
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /unpacks to more than 2\.0 MiB \(passed at "huge\.exr"\).*CACTUS_MAX_UNPACKED_BYTES/,
    );
  });

  test("a zip bomb that lies about its sizes is counted as it inflates: 422", async () => {
    const zeros = Buffer.alloc(MAX_UNPACKED_BYTES + 1);
    const bytes = zip(entry("scene.blend", blend(300)), entry("a.raw", zeros, { method: "deflate", declaredSize: 10 }));
    expect(bytes.length).toBeLessThan(10_000);
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /unpacks to more than 2\.0 MiB \(passed at "a\.raw"\)/,
    );
  });

  // The agent unpacks with yauzl's size check: such a zip would fail on every worker.
  test("a zip entry that inflates to other than its declared size is refused at upload: 422", async () => {
    const bytes = zip(entry("scene.blend", blend(300)), entry("a.raw", Buffer.alloc(5000), { method: "deflate", declaredSize: 10 }));
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /"a\.raw" is damaged: it declares 10 bytes but unpacks to 5000 bytes\. Zip the project folder again/,
    );
    const shorter = zip(entry("scene.blend", blend(300)), entry("b.raw", Buffer.alloc(5000), { method: "deflate", declaredSize: 9000 }));
    await api.expectRefused(() => api.upload(projectId, shorter), 422, "unprocessable", /"b\.raw" is damaged: it declares 9000 bytes but unpacks to 5000/);
  });

  test("a stored zip entry whose two sizes disagree: 422", async () => {
    const bytes = zip(entry("scene.blend", blend(300)), entry("c.raw", Buffer.alloc(100), { declaredSize: 40 }));
    await api.expectRefused(() => api.upload(projectId, bytes), 422, "unprocessable", /"c\.raw" is damaged: it declares 40 bytes but holds 100 bytes/);
  });

  test("a zip without any .blend: 422", async () => {
    const bytes = zip(entry("textures/wood.png"), entry("README.txt"));
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /holds no \.blend file; put the scene's \.blend in it/,
    );
  });

  test("a zip whose main .blend is not one: 422", async () => {
    const bytes = zip(entry("scene.blend", Buffer.from("not really")));
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /"scene\.blend" in the zip is not a \.blend file/,
    );
  });

  test("a zip entry whose deflated bytes are damaged: 422", async () => {
    const name = "textures/wood.png";
    const bytes = zip(entry(name, Buffer.alloc(5000, 7), { method: "deflate" }), entry("scene.blend", blend(300)));
    // The first entry's data follows its 30-byte local header and name; 0xff opens a deflate block of the reserved type.
    bytes.fill(0xff, 30 + name.length, 30 + name.length + 8);
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /"textures\/wood\.png" in the zip cannot be unpacked.*zip the project folder again/,
    );
  });

  test("a zip whose .blend entry has a damaged local header: 422", async () => {
    const texture = entry("wood.png");
    const bytes = zip(texture, entry("scene.blend", blend(300)));
    bytes.fill(0, 30 + texture.name.length + texture.data!.length, 30 + texture.name.length + texture.data!.length + 4);
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /"scene\.blend" in the zip cannot be unpacked.*zip the project folder again/,
    );
  });

  test("a zip whose directory promises more entries than it holds: 422", async () => {
    const bytes = zip(entry("wood.png"), entry("scene.blend", blend(300)));
    // The end record's two entry counts, at 8 and 10 of its 22 bytes.
    bytes.writeUInt16LE(3, bytes.length - 22 + 8);
    bytes.writeUInt16LE(3, bytes.length - 22 + 10);
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /cannot be read.*zip the project folder again/,
    );
  });

  test("a damaged zip: 422", async () => {
    const bytes = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100, 7)]);
    await api.expectRefused(
      () => api.upload(projectId, bytes),
      422,
      "unprocessable",
      /cannot be read.*zip the project folder again/,
    );
  });

  test("larger than the limit by its Content-Length: 413 before reading it", async () => {
    await api.expectRefused(
      () => api.upload(projectId, blend(3 * 1024 * 1024)),
      413,
      "payload_too_large",
      /is 3\.0 MiB; the limit is 2\.0 MiB\. Nothing was stored.*CACTUS_MAX_ARCHIVE_BYTES/,
    );
  });

  test("a chunked body that grows past the limit: 413", async () => {
    await api.expectRefused(
      () => api.upload(projectId, streamOf(MAX_ARCHIVE_BYTES + 512 * 1024)),
      413,
      "payload_too_large",
      /larger than that; the limit is 2\.0 MiB.*CACTUS_MAX_ARCHIVE_BYTES/,
    );
  });

  test("after a refusal the connection is not left holding the unread body: the next request on it is answered at once", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await sendOver(agent, api.uploadUrl(projectId), {
        method: "POST",
        headers: api.uploadHeaders({ token: "cct_not-a-token" }),
        body: Buffer.alloc(8 * 1024 * 1024, 0x41),
      });
      expect(refused.status).toBe(401);
      const started = Date.now();
      const next = await sendOver(agent, `${server.url}/api/v1/projects/${projectId}/archives`, {
        method: "GET",
        headers: api.uploadHeaders(),
      });
      expect(next.status).toBe(200);
      expect(next.socket).toBe(refused.socket);
      // Node's keep-alive timeout is 5 s: a connection stuck on the old body answers only by then, with a reset.
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      agent.destroy();
    }
  });

  test("without a filename, or with a path for one: 400", async () => {
    const noFilename = () =>
      fetch(`${server.url}/api/v1/projects/${projectId}/archives`, {
        method: "POST",
        headers: api.uploadHeaders(),
        body: new Uint8Array(blend(100)),
      });
    await api.expectRefused(noFilename, 400, "bad_request", /filename/);
    await api.expectRefused(
      () => api.upload(projectId, blend(100), { filename: "../scene.blend" }),
      400,
      "bad_request",
      /filename: A filename has no slashes/,
    );
  });

  test("into another user's project, or one that does not exist: 404", async () => {
    const other = await createUserWithToken(server, "neighbour");
    await api.expectRefused(
      () => api.upload(projectId, blend(100), { token: other.token }),
      404,
      "not_found",
      /no project .*cactus project list/,
    );
    await api.expectRefused(() => api.upload(987654, blend(100)), 404, "not_found", /no project 987654/);
  });

  test("into a project deleted while the bytes were on their way: 404", async () => {
    const doomed = (await api.createProject()).id;
    const bytes = blend(400_000);
    let sendTheRest!: () => void;
    const held = new Promise<void>((resolve) => (sendTheRest = resolve));
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls += 1;
        if (pulls === 1) return controller.enqueue(new Uint8Array(bytes.subarray(0, 200_000)));
        await held;
        controller.enqueue(new Uint8Array(bytes.subarray(200_000)));
        controller.close();
      },
    });
    await api.expectRefused(
      async () => {
        const answer = api.upload(doomed, body);
        await waitFor(async () => (await api.blobFiles()).some((name) => name.startsWith(".tmp/")), "the upload is under way");
        expect((await api.call(`/projects/${doomed}`, { method: "DELETE" })).status).toBe(204);
        sendTheRest();
        return answer;
      },
      404,
      "not_found",
      /Project \d+ was deleted while the file was uploading; nothing was stored\. Create a project/,
    );
  });

  test("without a token, with an unknown one, with a revoked one: 401", async () => {
    await api.expectRefused(() => api.upload(projectId, blend(100), { token: null }), 401, "unauthorized", /Sign in first/);
    await api.expectRefused(
      () => api.upload(projectId, blend(100), { token: "cct_nobody-issued-this" }),
      401,
      "unauthorized",
      /not valid.*cactus login/,
    );
    const revoked = await createUserWithToken(server, "revoked");
    await ApiToken.update({ revokedAt: new Date() }, { where: { userId: revoked.user.id } });
    await api.expectRefused(() => api.upload(projectId, blend(100), { token: revoked.token }), 401, "unauthorized", /revoked/);
  });
});
