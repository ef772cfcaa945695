import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAdvisoryLocks, type AdvisoryLocks } from "../../app/lib/advisory-locks.server";
import { createS3Storage, isStorageUnavailable, s3Client } from "../../app/lib/s3-storage.server";
import { createFileStorage, type BlobStorage } from "../../app/lib/storage.server";
import { createTestDatabase } from "../helpers/db";
import { startTestS3, type TestS3 } from "../helpers/s3";

// One interface, two stores: what the routes do with a blob behaves the same in the data
// dir and in an S3 bucket (s3rver here; the sweep's race rules are in blob-sweep.test.ts).

let root: string;
let s3: TestS3;
let locks: AdvisoryLocks;
/** The S3 requests sent, by command name. */
const sent: string[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-storage-"));
  s3 = await startTestS3();
  locks = createAdvisoryLocks(await createTestDatabase());
  s3.client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? "");
      return next(args);
    },
    { step: "initialize", name: "record" },
  );
});
afterAll(async () => {
  await locks?.close();
  await s3?.close();
  await fs.rm(root, { recursive: true, force: true });
});

const stores: [string, () => BlobStorage][] = [
  ["the file store", () => createFileStorage(path.join(root, "blobs"))],
  ["an S3 store", () => createS3Storage({ client: s3.client, bucket: s3.bucket, prefix: "farm/", temporaryDir: path.join(root, "uploads"), locks })],
];

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

async function bytesOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.each(stores)("%s", (name, open) => {
  let storage: BlobStorage;
  beforeAll(() => {
    storage = open();
  });

  async function stored(key: string, bytes: Buffer): Promise<string> {
    const temporary = await storage.temporaryPath();
    await fs.writeFile(temporary, bytes);
    await storage.commit(temporary, key);
    // The temporary file went with the commit.
    await expect(fs.access(temporary)).rejects.toThrow(/ENOENT/);
    return key;
  }

  test("a committed blob is there, whole or by range, with its size, and listed under its folder", async () => {
    const key = await stored("results/ab/abc", Buffer.from("0123456789"));
    await stored("results/cd/cde", Buffer.from("x"));
    await stored("thumbnails/ab/abc.webp", Buffer.from("y"));

    expect(await storage.exists(key)).toBe(true);
    expect(await storage.size(key)).toBe(10);
    expect((await bytesOf(storage.read(key))).toString()).toBe("0123456789");
    expect((await bytesOf(storage.read(key, { start: 2, end: 5 }))).toString()).toBe("2345");

    const listed = [];
    for await (const blob of storage.list("results/")) listed.push(blob);
    expect(listed.map((blob) => blob.key).sort()).toEqual(["results/ab/abc", "results/cd/cde"]);
    for (const blob of listed) expect(Math.abs(blob.committedAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  test("a missing blob: not there, no size, a read that errors; removing it twice is fine", async () => {
    const key = await stored("results/ef/efg", Buffer.from("gone soon"));
    await storage.remove(key);
    await storage.remove(key);
    expect(await storage.exists(key)).toBe(false);
    expect(await storage.size(key)).toBeNull();
    await expect(bytesOf(storage.read(key))).rejects.toThrow();
    const empty = [];
    for await (const blob of storage.list("nothing-here/")) empty.push(blob);
    expect(empty).toEqual([]);
  });

  test("a key that climbs out of the store is refused", async () => {
    const temporary = await storage.temporaryPath();
    await fs.writeFile(temporary, "x");
    await expect(storage.commit(temporary, "../outside")).rejects.toThrow(/Invalid storage key/);
    await expect(storage.exists("results/../../outside")).rejects.toThrow(/Invalid storage key/);
  });

  test(`20 MiB committed and read back the same${name === "an S3 store" ? ", sent in parts" : ""}`, async () => {
    const bytes = randomBytes(20 * 1024 * 1024);
    sent.length = 0;
    const key = await stored(`archives/${sha256(bytes).slice(0, 2)}/${sha256(bytes)}`, bytes);
    expect(sha256(await bytesOf(storage.read(key)))).toBe(sha256(bytes));
    if (name === "an S3 store") {
      // Multipart (16 MiB parts), each part streamed from its range of the file.
      expect(sent.filter((command) => command === "UploadPartCommand")).toHaveLength(2);
      expect(sent).toContain("CompleteMultipartUploadCommand");
      expect(sent).not.toContain("PutObjectCommand");
    }
  });
});

test("S3: a part cut off on its way is sent again from the file, and the object is whole", async () => {
  const client = await s3Client(s3.settings);
  const storage = createS3Storage({ client, bucket: s3.bucket, prefix: "farm/", temporaryDir: path.join(root, "uploads"), locks });
  let parts = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "UploadPartCommand" && (parts += 1) === 2) {
        // Half of the part read, then the connection breaks.
        const body = (args.request as { body: NodeJS.ReadableStream }).body;
        for await (const chunk of body) if (chunk) break;
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      }
      return next(args);
    },
    { step: "finalizeRequest", name: "cutOnePart" },
  );
  const bytes = randomBytes(40 * 1024 * 1024);
  const temporary = await storage.temporaryPath();
  await fs.writeFile(temporary, bytes);
  await storage.commit(temporary, "archives/cut/part");
  expect(parts).toBe(4);
  expect(sha256(await bytesOf(storage.read("archives/cut/part")))).toBe(sha256(bytes));
  client.destroy();
});

test("S3: keys live under the prefix, so the farm can share a bucket", async () => {
  expect((await s3.keys()).filter((key) => !key.startsWith("farm/"))).toEqual([]);
  expect(await s3.keys("farm/results/")).toContain("farm/results/ab/abc");
});

test("S3: a store that does not answer is an error, never a missing blob", async () => {
  const down = await startTestS3("down");
  await down.stop();
  const storage = createS3Storage({ client: down.client, bucket: "down", prefix: "", temporaryDir: path.join(root, "uploads"), locks });
  try {
    await expect(storage.exists("archives/ab/abc")).rejects.toThrow(/ECONNREFUSED/);
    // The API answers it 503, to try again.
    expect(isStorageUnavailable(await storage.size("archives/ab/abc").catch((error: unknown) => error))).toBe(true);
    await expect(storage.size("archives/ab/abc")).rejects.toThrow(/ECONNREFUSED/);
    await expect(bytesOf(storage.read("archives/ab/abc"))).rejects.toThrow(/ECONNREFUSED/);
  } finally {
    await down.close();
  }
});

test("S3: a bucket removed under a running farm is a store that cannot serve (the API's 503), not a missing blob, and is not sent again", async () => {
  const { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand } = await import("@aws-sdk/client-s3");
  await s3.client.send(new CreateBucketCommand({ Bucket: "removed" }));
  const storage = createS3Storage({ client: s3.client, bucket: "removed", prefix: "", temporaryDir: path.join(root, "uploads"), locks });
  const temporary = await storage.temporaryPath();
  await fs.writeFile(temporary, "frame");
  await storage.commit(temporary, "results/ab/abc");
  await s3.client.send(new DeleteObjectCommand({ Bucket: "removed", Key: "results/ab/abc" }));
  await s3.client.send(new DeleteBucketCommand({ Bucket: "removed" }));

  const noBucket = /^The blob store has no bucket "removed" \(CACTUS_S3_BUCKET\): it was removed, or it is in another store\.$/;
  const sizeError = await storage.size("results/ab/abc").catch((error: unknown) => error);
  expect(isStorageUnavailable(sizeError)).toBe(true);
  expect((sizeError as Error).message).toMatch(noBucket);
  await expect(bytesOf(storage.read("results/ab/abc"))).rejects.toThrow(noBucket);
  const again = await storage.temporaryPath();
  await fs.writeFile(again, "frame");
  sent.length = 0;
  await expect(storage.commit(again, "results/ab/abc")).rejects.toThrow(noBucket);
  expect(sent.filter((command) => command === "PutObjectCommand")).toHaveLength(1);
});

test("S3: credentials the store refuses at run time are a store that cannot serve, with what to check", async () => {
  const client = await s3Client({ ...s3.settings, credentials: { accessKeyId: "revoked", secretAccessKey: "revoked-secret" } });
  const storage = createS3Storage({ client, bucket: s3.bucket, prefix: "farm/", temporaryDir: path.join(root, "uploads"), locks });
  try {
    const error = await storage.size("results/ab/abc").catch((thrown: unknown) => thrown);
    expect(isStorageUnavailable(error)).toBe(true);
    // A HEAD's refusal has no body: its status names it.
    expect((error as Error).message).toBe(
      "The blob store refused the farm's credentials (HTTP 403): check CACTUS_S3_ACCESS_KEY_ID and CACTUS_S3_SECRET_ACCESS_KEY, and the server's clock.",
    );
    await expect(bytesOf(storage.read("results/ab/abc"))).rejects.toThrow(/^The blob store refused the farm's credentials \(InvalidAccessKeyId\)/);
  } finally {
    client.destroy();
  }
});
