import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
  type HeadObjectCommandOutput,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { KeyLocks } from "./advisory-locks.server";
import { ConfigError, type S3Settings } from "./env.server";
import type { BlobStorage } from "./storage.server";

// Blobs in an S3-compatible store (AWS S3, MinIO, …), shared by every server replica
// (decision 020). Uploads still arrive in a temporary file on the replica's own disk,
// where they are hashed and checked as with the file store; a commit then streams the
// file to the bucket in parts.

/** Parts of a multipart upload, and how many go at once: what one commit holds in memory, whatever the file's size. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_AT_ONCE = 2;
/** Tries of a commit whose object a sweep removed right after it landed (see commit). */
const COMMIT_TRIES = 3;

export interface S3StorageOptions {
  client: S3Client;
  bucket: string;
  /** Put before every key ("" or ending in "/"), so the farm can share a bucket. */
  prefix: string;
  /** Where uploads wait on this replica's disk. */
  temporaryDir: string;
  /** Key locks every replica sees (Postgres advisory locks). */
  locks: KeyLocks;
}

export function s3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.credentials,
    // Checksums only where S3 requires them: the SDK's default sends streamed bodies as
    // aws-chunked with a trailing checksum, which MinIO releases before 2024 and s3rver
    // store as bytes of the object.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // An unreachable store fails the request (the agent retries it) instead of hanging it.
    requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
  });
}

export function createS3Storage({ client, bucket, prefix, temporaryDir, locks }: S3StorageOptions): BlobStorage {
  const Bucket = bucket;
  const keyOf = (key: string) => {
    if (key.startsWith("/") || key.split("/").some((part) => part === "" || part === "." || part === ".."))
      throw new Error(`Invalid storage key: ${key}`);
    return prefix + key;
  };
  const head = async (key: string): Promise<HeadObjectCommandOutput | null> => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) }));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  };
  const upload = (file: string, key: string) =>
    new Upload({
      client,
      params: { Bucket, Key: keyOf(key), Body: createReadStream(file) },
      partSize: PART_BYTES,
      queueSize: PARTS_AT_ONCE,
    }).done();

  return {
    async temporaryPath() {
      await fs.mkdir(temporaryDir, { recursive: true });
      return path.join(temporaryDir, randomUUID());
    },
    async commit(temporaryFile, key) {
      // Writing an object dates it (its LastModified), as the file store's rename does. S3
      // cannot move an object aside and back, so a sweep that looked before this object
      // landed may remove it just after. The sweep holds the key's lock from its look to its
      // removal; seen under that lock the object is there for good, or it is sent again.
      for (let tries = 1; ; tries += 1) {
        await upload(temporaryFile, key);
        if (await locks.shared(key, async () => (await head(key)) !== null)) break;
        if (tries === COMMIT_TRIES) throw new Error(`The blob ${key} was removed as soon as it was stored, ${tries} times.`);
      }
      await fs.rm(temporaryFile, { force: true });
    },
    exists: async (key) => (await head(key)) !== null,
    read(key, range) {
      // The stream is wanted at once; the object's answer comes later. Destroying the
      // stream (a client that went away) ends the generator, which ends the download.
      const abort = new AbortController();
      const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
      async function* body() {
        const answer = await client.send(new GetObjectCommand({ Bucket, Key: keyOf(key), Range }), { abortSignal: abort.signal });
        yield* answer.Body as Readable;
      }
      const stream = Readable.from(body(), { objectMode: false });
      stream.once("close", () => abort.abort());
      return stream;
    },
    size: async (key) => {
      const found = await head(key);
      return found ? (found.ContentLength ?? 0) : null;
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },
    async *list(folder) {
      for await (const page of paginateListObjectsV2({ client }, { Bucket, Prefix: prefix + folder })) {
        for (const object of page.Contents ?? []) {
          if (object.Key && object.LastModified) yield { key: object.Key.slice(prefix.length), committedAt: object.LastModified };
        }
      }
    },
    removeIfOlderThan(key, cutoff) {
      // Look and remove under the key's lock, which a commit takes to see its object landed.
      return locks.exclusive(key, async () => {
        const found = await head(key);
        if (!found?.LastModified || found.LastModified >= cutoff) return false;
        await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
        return true;
      });
    },
  };
}

/**
 * At boot: the bucket is there and these credentials may write, read and remove in it,
 * else a ConfigError that says what to fix (rather than a 500 at the first upload).
 */
export async function checkBucket(client: S3Client, settings: S3Settings): Promise<void> {
  const where = `the S3 store ${settings.endpoint ?? `of region ${settings.region}`}`;
  const probe = `${settings.prefix}.cactus-probe/${randomUUID()}`;
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
    await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: probe, Body: "cactus" }));
    await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: probe }));
    await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: probe }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const name = error instanceof Error ? error.name : String(error);
    if (isNotFound(error)) {
      throw new ConfigError(
        `The bucket "${settings.bucket}" does not exist in ${where}. Create it (MinIO: mc mb ALIAS/${settings.bucket}; ` +
          `AWS: aws s3 mb s3://${settings.bucket}), or set CACTUS_S3_BUCKET to one that exists.`,
      );
    }
    if (status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch/.test(name)) {
      throw new ConfigError(
        `${capitalised(where)} refused access to the bucket "${settings.bucket}" (${name}). Check CACTUS_S3_ACCESS_KEY_ID and ` +
          "CACTUS_S3_SECRET_ACCESS_KEY: they need to list, read, write and delete objects in it.",
      );
    }
    const code = (error as { code?: string }).code ?? name;
    throw new ConfigError(
      `Cannot use ${where} (${code}: ${error instanceof Error ? error.message : String(error)}). ` +
        "Check CACTUS_S3_ENDPOINT and CACTUS_S3_REGION, and that the store is running.",
    );
  }
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 404 || error.name === "NotFound" || error.name === "NoSuchKey" || error.name === "NoSuchBucket";
}

const capitalised = (text: string) => text[0].toUpperCase() + text.slice(1);
