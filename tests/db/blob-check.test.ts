import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAdvisoryLocks, type AdvisoryLocks } from "../../app/lib/advisory-locks.server";
import { warnOfMissingBlobs } from "../../app/lib/blob-check.server";
import { connectDatabase } from "../../app/lib/db.server";
import { createS3Storage } from "../../app/lib/s3-storage.server";
import { createFileStorage } from "../../app/lib/storage.server";
import { createTestDatabase } from "../helpers/db";
import { farm } from "../helpers/farm";
import { startTestS3, type TestS3 } from "../helpers/s3";

// At start a server looks for the newest archives' files in its store, and says so when
// they are not there: a replica started without the others' CACTUS_S3_* settings (or
// with another bucket or prefix), or a farm moved to S3 without its old blobs, would
// otherwise store and look for blobs where no other replica does, silently.

let s3: TestS3;
let sequelize: Sequelize;
let locks: AdvisoryLocks;
let root: string;
/** The farm's two archives, oldest first, and their blobs' keys. */
let archives: { id: number; key: string }[];

beforeAll(async () => {
  s3 = await startTestS3();
  const databaseUrl = await createTestDatabase();
  sequelize = connectDatabase(databaseUrl);
  locks = createAdvisoryLocks(databaseUrl);
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-blob-check-"));
  const f = farm(sequelize);
  const user = await f.user();
  archives = [];
  for (let index = 0; index < 2; index += 1) {
    const id = await f.archive(user);
    archives.push({ id, key: (await f.one<{ key: string }>("SELECT storage_key AS key FROM archives WHERE id = $id", { id })).key });
  }
});
afterAll(async () => {
  await locks?.close();
  await sequelize?.close();
  await s3?.close();
  await fs.rm(root, { recursive: true, force: true });
});

async function warnings(blobs: Parameters<typeof warnOfMissingBlobs>[0], config: Parameters<typeof warnOfMissingBlobs>[1]): Promise<string[]> {
  const lines: string[] = [];
  await warnOfMissingBlobs(blobs, config, (line) => lines.push(line));
  return lines;
}

const s3Store = (prefix: string) =>
  createS3Storage({ client: s3.client, bucket: s3.bucket, prefix, temporaryDir: path.join(root, "uploads"), locks });

test("a store that holds the newest archives' files says nothing; one that lacks some names them", async () => {
  const [older, newer] = archives;
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `farm/${newer.key}`, Body: "newer" }));
  const settings = { ...s3.settings, prefix: "farm/" };
  expect(await warnings(s3Store("farm/"), { s3: settings, dataDir: root })).toEqual([
    `Warning: 1 of the farm's 2 newest archives (${older.id}) has no file in the S3 bucket cactus under farm/: its renders fail until the same file is uploaded again.`,
  ]);
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `farm/${older.key}`, Body: "older" }));
  expect(await warnings(s3Store("farm/"), { s3: settings, dataDir: root })).toEqual([]);
});

test("a replica on its own disk beside replicas on S3 is told to take their settings", async () => {
  const dataDir = path.join(root, "file-replica");
  const [older, newer] = archives;
  expect(await warnings(createFileStorage(path.join(dataDir, "blobs")), { s3: null, dataDir })).toEqual([
    `Warning: none of the farm's 2 newest archives (${newer.id}, ${older.id}) has its file in ${dataDir}/blobs. Every server replica of a ` +
      "farm keeps its blobs in one place: start this one with the same CACTUS_S3_* settings as the others (on one machine: the " +
      "CACTUS_DATA_DIR that holds them).",
  ]);
});

test("a farm moved to S3 whose blobs stayed on disk is told to copy them; another prefix is another store", async () => {
  const dataDir = path.join(root, "moved");
  await fs.mkdir(path.join(dataDir, "blobs", "archives", "ab"), { recursive: true });
  const [line] = await warnings(s3Store("elsewhere/"), { s3: { ...s3.settings, prefix: "elsewhere/" }, dataDir });
  expect(line).toMatch(/^Warning: none of the farm's 2 newest archives \(\d+, \d+\) has its file in the S3 bucket cactus under elsewhere\/\./);
  expect(line).toContain(`The farm's blobs from before S3 are still in ${dataDir}/blobs: copy them to the bucket (README, "Several machines").`);
});

test("a store that cannot answer is said in one line, and the start goes on", async () => {
  const down = await startTestS3("down");
  await down.stop();
  const blobs = createS3Storage({ client: down.client, bucket: "down", prefix: "", temporaryDir: path.join(root, "uploads"), locks });
  const lines = await warnings(blobs, { s3: down.settings, dataDir: root });
  await down.close();
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^Could not check that this server's store holds the farm's newest archives: StorageUnavailableError: The blob store did not answer/);
});

test("a farm of one archive names it", async () => {
  const databaseUrl = await createTestDatabase();
  const single = connectDatabase(databaseUrl);
  try {
    const f = farm(single);
    const id = await f.archive(await f.user());
    const dataDir = path.join(root, "single");
    expect(await warnings(createFileStorage(path.join(dataDir, "blobs")), { s3: null, dataDir })).toEqual([
      `Warning: the farm's archive ${id} has no file in ${dataDir}/blobs. Every server replica of a farm keeps its blobs in one place: ` +
        "start this one with the same CACTUS_S3_* settings as the others (on one machine: the CACTUS_DATA_DIR that holds them).",
    ]);
  } finally {
    await single.close();
  }
});
