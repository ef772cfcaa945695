import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { sweepUnreferencedFrames } from "../../app/lib/blob-sweep.server";
import { connectDatabase } from "../../app/lib/db.server";
import { resultKey, thumbnailKey } from "../../app/lib/results.server";
import { archiveKey, createFileStorage, type BlobStorage } from "../../app/lib/storage.server";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// The daily sweep of frame images: what no result names any more goes, once nothing has
// committed it for an hour; what a result names, or an upload just stored, stays.

let sequelize: Sequelize;
let f: Farm;
let root: string;
let storage: BlobStorage;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-sweep-"));
  storage = createFileStorage(root);
});
afterAll(async () => {
  await sequelize.close();
  await fs.rm(root, { recursive: true, force: true });
});

const HOUR = 60 * 60 * 1000;
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** Commits `text` under `key`, then dates it `ageMs` back, as if committed then. */
async function blob(key: string, text: string, ageMs: number): Promise<string> {
  const temporary = await storage.temporaryPath();
  await fs.writeFile(temporary, text);
  await storage.commit(temporary, key);
  const then = new Date(Date.now() - ageMs);
  await fs.utimes(path.join(root, key), then, then);
  return key;
}

/** A render of `user` with an accepted result for frame 1 naming these keys. */
async function resultNaming(imageKey: string, thumbnail: string | null): Promise<number> {
  const user = await f.user();
  const renderId = await f.render(user, { frames: "1" });
  await f.one(
    `INSERT INTO results (task_id, render_id, frame, author_id, width, height, accepted, image_key, thumbnail_key)
     SELECT id, $renderId, 1, $user, 64, 48, true, $imageKey, $thumbnail FROM tasks WHERE render_id = $renderId
     RETURNING id`,
    { renderId, user, imageKey, thumbnail },
  );
  return renderId;
}

test("frame blobs no result names go once older than the grace; named, recent and other blobs stay", async () => {
  const named = await blob(resultKey(sha("named")), "named", 3 * HOUR);
  const namedThumbnail = await blob(thumbnailKey(sha("named")), "thumb", 3 * HOUR);
  await resultNaming(named, namedThumbnail);
  const deletedRender = await resultNaming(await blob(resultKey(sha("gone")), "gone", 3 * HOUR), await blob(thumbnailKey(sha("gone")), "t", 3 * HOUR));
  await sequelize.query(`DELETE FROM renders WHERE id = $id`, { bind: { id: deletedRender } });
  await blob(resultKey(sha("orphan")), "orphan", 2 * HOUR);
  const justStored = await blob(resultKey(sha("just stored")), "just stored", 5 * 60 * 1000);
  const archive = await blob(archiveKey(sha("archive")), "archive", 3 * HOUR);

  const count = await sweepUnreferencedFrames(sequelize, storage);

  expect(count).toEqual({ checked: 5, removed: 3 });
  const left = [];
  for (const prefix of ["results/", "thumbnails/", "archives/"]) for await (const { key } of storage.list(prefix)) left.push(key);
  expect(left.sort()).toEqual([archive, justStored, named, namedThumbnail].sort());
});

test("a blob committed again while it is being removed stays: the commit wins", async () => {
  const key = await blob(resultKey(sha("again")), "again", 3 * HOUR);
  const cutoff = new Date(Date.now() - HOUR);
  // Another upload of the same bytes commits between the sweep's look and its removal.
  await blob(key, "again", 0);

  expect(await storage.removeIfOlderThan(key, cutoff)).toBe(false);
  expect(await fs.readFile(path.join(root, key), "utf8")).toBe("again");
  const old = await blob(resultKey(sha("old")), "old", 3 * HOUR);
  expect(await storage.removeIfOlderThan(old, cutoff)).toBe(true);
  expect(await storage.exists(old)).toBe(false);
  expect(await storage.removeIfOlderThan(old, cutoff)).toBe(false);
});

test("an empty store, or one without frames yet, is swept without error", async () => {
  const empty = createFileStorage(await fs.mkdtemp(path.join(os.tmpdir(), "cactus-sweep-empty-")));
  expect(await sweepUnreferencedFrames(sequelize, empty)).toEqual({ checked: 0, removed: 0 });
});
