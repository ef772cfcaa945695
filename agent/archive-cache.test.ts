import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { SYMLINK_MODE, zipBytes } from "../tests/helpers/fixtures";
import { ArchiveCache, ArchiveRefused, type CachedArchiveRef } from "./archive-cache";
import { AgentClient, ArchiveCorrupt } from "./client";
import { type FakeFarm, WORKER_TOKEN, sha256, startFakeFarm } from "./testing/fake-farm";

// The cache against the fake farm's archive route, through the real client's download.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup({ maxBytes = 1 << 20 }: { maxBytes?: number } = {}) {
  const farm = await startFakeFarm();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-cache-"));
  cleanups.push(() => farm.close(), () => fs.rm(dir, { recursive: true, force: true }));
  const client = new AgentClient({ server: farm.url, token: WORKER_TOKEN, retry: { initialMs: 5, maxMs: 10, giveUpAfterMs: 2000 } });
  let clock = 1_000_000;
  const open = async () => {
    const cache = new ArchiveCache({
      dir,
      maxBytes,
      download: (archive, file, signal) => client.downloadArchive(archive, file, { signal }),
      now: () => (clock += 1000),
    });
    await cache.open();
    return cache;
  };
  return { farm, dir, cache: await open(), reopen: open };
}

function serve(farm: FakeFarm, bytes: Buffer, options: Partial<CachedArchiveRef> = {}): CachedArchiveRef {
  const hash = sha256(bytes);
  farm.archives.set(hash, bytes);
  return { hash, size: bytes.length, kind: "blend", mainPath: null, ...options };
}

const ESCAPE = "/tmp/cactus-agent-escape-check";
const blend = (text: string, size = 100) => Buffer.concat([Buffer.from(`BLENDER-v304${text}`), Buffer.alloc(size)]).subarray(0, size);
const downloads = (farm: FakeFarm) => farm.to("GET", /\/agent\/archives\//).length;
const filesUnder = async (dir: string) => (await fs.readdir(dir, { recursive: true })).sort();

describe("archive cache", () => {
  test("downloads an archive once; later tasks get the cached copy", async () => {
    const { farm, cache } = await setup();
    const bytes = blend("shot-1");
    const archive = serve(farm, bytes);
    const first = await cache.acquire(archive);
    first.release();
    const second = await cache.acquire(archive);
    expect(second.blendFile).toBe(first.blendFile);
    expect(await fs.readFile(second.blendFile)).toEqual(bytes);
    expect(downloads(farm)).toBe(1);
    expect(cache.usage()).toEqual({ bytes: 100, entries: 1 });
    second.release();
  });

  test("a download that does not hash to the archive's sha256 is refused and deleted", async () => {
    const { farm, cache, dir } = await setup();
    const archive = serve(farm, blend("the real one"));
    farm.archives.set(archive.hash, blend("a corrupt copy"));
    await expect(cache.acquire(archive)).rejects.toThrow(ArchiveCorrupt);
    await expect(cache.acquire(archive)).rejects.toThrow(/sha256 [0-9a-f]{64}, not the 100 bytes of/);
    expect(await filesUnder(dir)).toEqual(["archives", "tmp"]);
    expect(cache.has(archive.hash)).toBe(false);
  });

  test("a download cut halfway resumes with a Range request and still verifies", async () => {
    const { farm, cache } = await setup();
    const bytes = blend("a longer scene", 50_000);
    const archive = serve(farm, bytes);
    farm.cutArchiveAt = 20_000;
    const cached = await cache.acquire(archive);
    expect(await fs.readFile(cached.blendFile)).toEqual(bytes);
    const requests = farm.to("GET", /\/agent\/archives\//);
    expect(requests).toHaveLength(2);
    expect(requests[1].headers.range).toMatch(/^bytes=\d+-$/);
  });

  test("a zip is unpacked into the entry's private dir, and the main .blend is what Blender opens", async () => {
    const { farm, cache, dir } = await setup();
    const zip = zipBytes([
      { name: "shot/", data: Buffer.alloc(0) },
      { name: "shot/scene.blend", data: blend("zipped"), method: "deflate" },
      { name: "shot/textures/wood.png", data: Buffer.from("png bytes") },
    ]);
    const archive = serve(farm, zip, { kind: "zip", mainPath: "shot/scene.blend" });
    const cached = await cache.acquire(archive);
    expect(cached.blendFile).toBe(path.join(dir, "archives", archive.hash, "files", "shot", "scene.blend"));
    expect(await fs.readFile(cached.blendFile)).toEqual(blend("zipped"));
    expect(await fs.readFile(path.join(path.dirname(cached.blendFile), "textures", "wood.png"), "utf8")).toBe("png bytes");
    expect((await fs.stat(path.join(dir, "archives", archive.hash))).mode & 0o777).toBe(0o700);
    // Unpacked bytes are what the cache counts; the zip itself is gone.
    expect(cache.usage()).toEqual({ bytes: 100 + 9, entries: 1 });
    expect(await filesUnder(path.join(dir, "archives", archive.hash))).not.toContain("download");
  });

  test.each([
    ["climbs out with ..", { name: "../x", data: Buffer.from("escape") }, /"\.\.\/x" climbs out of its folder/],
    ["deep ..", { name: "shot/../../x", data: Buffer.from("escape") }, /climbs out of its folder/],
    ["an absolute path", { name: ESCAPE, data: Buffer.from("escape") }, /"\/tmp\/cactus-agent-escape-check" has an absolute path/],
    ["a drive letter", { name: "C:/x", data: Buffer.from("escape") }, /has an absolute path/],
    ["a symbolic link", { name: "shot/link", data: Buffer.from("/etc/passwd"), externalAttributes: (SYMLINK_MODE << 16) >>> 0 }, /is a symbolic link/],
  ])("a zip with %s is refused and nothing of it stays", async (_what, bad, message) => {
    const { farm, cache, dir } = await setup();
    const zip = zipBytes([{ name: "shot/scene.blend", data: blend("zipped") }, bad]);
    const archive = serve(farm, zip, { kind: "zip", mainPath: "shot/scene.blend" });
    const refusal = cache.acquire(archive);
    await expect(refusal).rejects.toThrow(ArchiveRefused);
    await expect(refusal).rejects.toThrow(message);
    expect(await filesUnder(dir)).toEqual(["archives", "tmp"]);
    await expect(fs.access(ESCAPE)).rejects.toThrow(/ENOENT/);
  });

  test("a zip without the main .blend the task names is refused", async () => {
    const { farm, cache } = await setup();
    const zip = zipBytes([{ name: "other.blend", data: blend("zipped") }]);
    await expect(cache.acquire(serve(farm, zip, { kind: "zip", mainPath: "shot/scene.blend" }))).rejects.toThrow(
      /The zip has no "shot\/scene.blend"/,
    );
  });

  test("past its byte limit the least recently used archive goes first", async () => {
    const { farm, cache } = await setup({ maxBytes: 250 });
    const [a, b, c] = ["a", "b", "c"].map((name) => serve(farm, blend(name)));
    (await cache.acquire(a)).release();
    (await cache.acquire(b)).release();
    (await cache.acquire(a)).release(); // a is now more recent than b
    (await cache.acquire(c)).release();
    expect([a, b, c].map((archive) => cache.has(archive.hash))).toEqual([true, false, true]);
    expect(cache.usage()).toEqual({ bytes: 200, entries: 2 });
  });

  test("an archive in use is never evicted, even past the limit; it goes once released", async () => {
    const { farm, cache } = await setup({ maxBytes: 150 });
    const [a, b, c] = ["a", "b", "c"].map((name) => serve(farm, blend(name)));
    const holdA = await cache.acquire(a);
    const holdB = await cache.acquire(b);
    expect(cache.usage().bytes).toBe(200);
    expect(await fs.readFile(holdA.blendFile)).toEqual(blend("a"));
    holdA.release();
    const holdC = await cache.acquire(c); // a is the oldest, and free now: it goes; b and c are in use and stay
    expect([a, b, c].map((archive) => cache.has(archive.hash))).toEqual([false, true, true]);
    holdB.release();
    await new Promise((resolve) => setTimeout(resolve, 20)); // eviction after release runs in the background
    expect([a, b, c].map((archive) => cache.has(archive.hash))).toEqual([false, false, true]);
    holdC.release();
  });

  test("survives a restart: finished entries stay, with their last use; leftovers go", async () => {
    const { farm, cache, dir, reopen } = await setup({ maxBytes: 250 });
    const [a, b, c] = ["a", "b", "c"].map((name) => serve(farm, blend(name)));
    (await cache.acquire(a)).release();
    (await cache.acquire(b)).release();
    await fs.writeFile(path.join(dir, "tmp", "half-a-download"), "x");
    await fs.mkdir(path.join(dir, "archives", "f".repeat(64)));
    const again = await reopen();
    expect(again.usage()).toEqual({ bytes: 200, entries: 2 });
    expect(await fs.readdir(path.join(dir, "tmp"))).toEqual([]);
    expect((await fs.readdir(path.join(dir, "archives"))).sort()).toEqual([a.hash, b.hash].sort());
    const before = downloads(farm);
    (await again.acquire(a)).release();
    expect(downloads(farm)).toBe(before);
    // a was used last (its entry.json's mtime), so b goes when c comes.
    (await again.acquire(c)).release();
    expect([a, b, c].map((archive) => again.has(archive.hash))).toEqual([true, false, true]);
  });
});
