import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAdvisoryLocks, type AdvisoryLocks } from "../../app/lib/advisory-locks.server";
import { sweepOnOneReplica, sweepUnreferencedFrames } from "../../app/lib/blob-sweep.server";
import { connectDatabase } from "../../app/lib/db.server";
import { resultKey, thumbnailKey } from "../../app/lib/results.server";
import { createS3Storage, s3Client } from "../../app/lib/s3-storage.server";
import { archiveKey, createFileStorage, type BlobStorage } from "../../app/lib/storage.server";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";
import { startTestS3, type TestS3 } from "../helpers/s3";

// The daily sweep of frame images, against the file store and an S3 store alike: what no
// result names any more goes, once nothing has committed it for an hour; what a result
// names, or an upload just stored, stays — also when the upload races the sweep.

let sequelize: Sequelize;
let databaseUrl: string;
let f: Farm;
let root: string;
let s3: TestS3;
const locks: AdvisoryLocks[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  sequelize = connectDatabase(databaseUrl);
  f = farm(sequelize);
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-sweep-"));
  s3 = await startTestS3();
});
afterAll(async () => {
  await Promise.all(locks.map((lock) => lock.close()));
  await s3?.close();
  await sequelize.close();
  await fs.rm(root, { recursive: true, force: true });
});

/** An S3 store of its own replica: its own client and lock connections, the one bucket and database. */
async function s3Replica(): Promise<BlobStorage & { client: S3Client }> {
  const client = await s3Client(s3.settings);
  const lock = createAdvisoryLocks(databaseUrl);
  locks.push(lock);
  const temporaryDir = path.join(root, `replica-${locks.length}`);
  return Object.assign(createS3Storage({ client, bucket: s3.bucket, prefix: "", temporaryDir, locks: lock }), { client });
}

const stores: [string, () => BlobStorage | Promise<BlobStorage>][] = [
  ["the file store", () => createFileStorage(path.join(root, "blobs"))],
  ["an S3 store", s3Replica],
];

const HOUR = 60 * 60 * 1000;
const sha = (text: string) => createHash("sha256").update(`${text} ${Math.random()}`).digest("hex");

/**
 * The start of the next whole second, once it has come. S3 dates an object to the second,
 * so blobs committed before it are older than it in either store, and those after not.
 */
async function nextSecond(): Promise<Date> {
  const next = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await new Promise((resolve) => setTimeout(resolve, next - Date.now() + 5));
  return new Date(next);
}

/** A sweep whose hour of grace ends at `cutoff`. */
const sweepAt = (storage: BlobStorage, cutoff: Date) => sweepUnreferencedFrames(sequelize, storage, { now: new Date(cutoff.getTime() + HOUR) });

async function commit(storage: BlobStorage, key: string, text: string): Promise<string> {
  const temporary = await storage.temporaryPath();
  await fs.writeFile(temporary, text);
  await storage.commit(temporary, key);
  return key;
}

async function text(storage: BlobStorage, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of storage.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

async function keys(storage: BlobStorage, wanted: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const prefix of ["results/", "thumbnails/", "archives/"]) for await (const { key } of storage.list(prefix)) left.push(key);
  return left.filter((key) => wanted.includes(key)).sort();
}

/** A render of a user with an accepted result for frame 1 naming these keys. */
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

describe.each(stores)("%s", (_, open) => {
  let storage: BlobStorage;
  beforeAll(async () => {
    storage = await open();
  });

  test("frame blobs no result names go once older than the grace; named, recent and other blobs stay", async () => {
    const named = await commit(storage, resultKey(sha("named")), "named");
    const namedThumbnail = await commit(storage, thumbnailKey(sha("named")), "thumb");
    await resultNaming(named, namedThumbnail);
    const goneImage = await commit(storage, resultKey(sha("gone")), "gone");
    const goneThumbnail = await commit(storage, thumbnailKey(sha("gone")), "t");
    const deletedRender = await resultNaming(goneImage, goneThumbnail);
    await sequelize.query(`DELETE FROM renders WHERE id = $id`, { bind: { id: deletedRender } });
    const orphan = await commit(storage, resultKey(sha("orphan")), "orphan");
    const archive = await commit(storage, archiveKey(sha("archive")), "archive");
    const cutoff = await nextSecond();
    const justStored = await commit(storage, resultKey(sha("just stored")), "just stored");

    const count = await sweepAt(storage, cutoff);

    // Other tests' blobs share the store: only these are counted here.
    expect(count.removed).toBeGreaterThanOrEqual(3);
    expect(await keys(storage, [named, namedThumbnail, goneImage, goneThumbnail, orphan, archive, justStored])).toEqual(
      [archive, justStored, named, namedThumbnail].sort(),
    );
  });

  test("a blob committed again before its removal stays: the commit wins", async () => {
    const key = await commit(storage, resultKey(sha("again")), "again");
    const cutoff = await nextSecond();
    // Another upload of the same bytes commits between the sweep's listing and its removal.
    await commit(storage, key, "again");

    expect(await storage.removeIfOlderThan(key, cutoff)).toBe(false);
    expect(await text(storage, key)).toBe("again");
    const old = await commit(storage, resultKey(sha("old")), "old");
    const later = await nextSecond();
    expect(await storage.removeIfOlderThan(old, later)).toBe(true);
    expect(await storage.exists(old)).toBe(false);
    expect(await storage.removeIfOlderThan(old, later)).toBe(false);
  });
});

test("S3: an upload landing between the sweep's look and its removal is stored again, on another replica", async () => {
  const sweeper = await s3Replica();
  const uploader = await s3Replica();
  const key = resultKey(sha("raced"));
  await commit(sweeper, key, "raced");
  const cutoff = await nextSecond();

  // The sweeper has looked (the object is old) and is about to remove it when the
  // uploader's bytes land: its removal takes them with it.
  let racing: Promise<string> | undefined;
  let uploads = 0;
  let uploaded = () => undefined as void;
  const landed = new Promise<void>((resolve) => (uploaded = resolve));
  uploader.client.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      if (context.commandName === "PutObjectCommand" && (uploads += 1) === 1) uploaded();
      return output;
    },
    { step: "initialize", name: "countUploads" },
  );
  sweeper.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "DeleteObjectCommand") {
        racing = commit(uploader, key, "raced");
        await landed;
      }
      return next(args);
    },
    { step: "initialize", name: "raceTheRemoval" },
  );

  expect(await sweeper.removeIfOlderThan(key, cutoff)).toBe(true);
  await racing;
  // The uploader saw, under the key's lock, that its object was gone, and sent it again.
  expect(uploads).toBe(2);
  expect(await text(uploader, key)).toBe("raced");
  expect(await sweeper.removeIfOlderThan(key, cutoff)).toBe(false);
});

test("an empty store, or one without frames yet, is swept without error", async () => {
  const empty = createFileStorage(await fs.mkdtemp(path.join(os.tmpdir(), "cactus-sweep-empty-")));
  expect(await sweepUnreferencedFrames(sequelize, empty)).toEqual({ checked: 0, removed: 0 });
  const emptyBucket = await startTestS3("empty");
  try {
    const lock = createAdvisoryLocks(databaseUrl);
    locks.push(lock);
    const storage = createS3Storage({ client: emptyBucket.client, bucket: "empty", prefix: "", temporaryDir: root, locks: lock });
    expect(await sweepUnreferencedFrames(sequelize, storage)).toEqual({ checked: 0, removed: 0 });
  } finally {
    await emptyBucket.close();
  }
});

test("the day's sweep runs on one replica at a time: one that finds another's running skips the day", async () => {
  const replica = (name: string) => {
    const lock = createAdvisoryLocks(databaseUrl);
    locks.push(lock);
    const temporaryDir = path.join(root, `sweeper-${name}`);
    return { lock, storage: createS3Storage({ client: s3.client, bucket: s3.bucket, prefix: "one-sweep/", temporaryDir, locks: lock }) };
  };
  const [a, b] = [replica("a"), replica("b")];
  const orphan = await commit(a.storage, resultKey(sha("orphan of the day")), "orphan");
  const now = new Date((await nextSecond()).getTime() + HOUR);

  // a's sweep is under way: it holds at its first walk of the store until let go.
  let letGo = () => undefined as void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  let walking = () => undefined as void;
  const walked = new Promise<void>((resolve) => (walking = resolve));
  const slow: BlobStorage = {
    ...a.storage,
    async *list(prefix) {
      walking();
      await held;
      yield* a.storage.list(prefix);
    },
  };
  const logA: string[] = [];
  const sweepA = sweepOnOneReplica(sequelize, slow, a.lock, (line) => logA.push(line), { now });
  await walked;
  const logB: string[] = [];
  await sweepOnOneReplica(sequelize, b.storage, b.lock, (line) => logB.push(line), { now });
  expect(logB).toEqual([]);
  expect(await b.storage.exists(orphan)).toBe(true);

  letGo();
  await sweepA;
  expect(logA).toEqual(["Removed 1 frame image(s) no render uses any more."]);
  expect(await b.storage.exists(orphan)).toBe(false);
});
