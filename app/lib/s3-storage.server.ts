import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type * as Sdk from "@aws-sdk/client-s3";
import type { HeadObjectCommandOutput, S3Client } from "@aws-sdk/client-s3";
import type { KeyLocks } from "./advisory-locks.server";
import { ConfigError, type S3Settings } from "./env.server";
import type { BlobStorage } from "./storage.server";

// Blobs in an S3-compatible store (AWS S3, MinIO, …), shared by every server replica
// (decision 020). Uploads still arrive in a temporary file on the replica's own disk,
// where they are hashed and checked as with the file store; a commit then streams the
// file to the bucket, each request's body read from the file as it goes out.

/** Above this a file goes in parts (S3 takes at most 5 GiB in one PUT, and a part can be tried again alone). */
const PART_BYTES = 16 * 1024 * 1024;
/** S3's limit on the parts of one object; a larger file gets larger parts. */
const MAX_PARTS = 10_000;
const PARTS_AT_ONCE = 4;
/** Tries of a request that streams from the file (the SDK does not send a stream twice). */
const FILE_REQUEST_TRIES = 3;
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

let sdk: typeof Sdk | undefined;

/**
 * A client for the store. The AWS SDK is loaded with the first one: a farm that keeps its
 * blobs on disk does not carry its ~25 MB (decision 010).
 */
export async function s3Client(settings: S3Settings): Promise<S3Client> {
  sdk ??= await import("@aws-sdk/client-s3");
  const client = new sdk.S3Client({
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
  // Outermost, so after the SDK's own retries: a store that did not answer becomes one
  // error the API answers 503, whichever request it was.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw isStoreDown(error) ? new StorageUnavailableError(error as Error) : error;
      }
    },
    { step: "initialize", name: "cactusStorageUnavailable" },
  );
  return client;
}

/** The store did not answer, or said it failed (5xx): try again shortly (the API's 503). */
export class StorageUnavailableError extends Error {
  override name = "StorageUnavailableError";
  readonly code: string | undefined;
  constructor(cause: Error) {
    super(`The blob store did not answer: ${cause.message}`, { cause });
    this.code = (cause as { code?: string }).code ?? cause.name;
  }
}

/** By name, not instanceof: like ConfigError, it crosses the server's two bundles. */
export function isStorageUnavailable(error: unknown): boolean {
  return error instanceof Error && error.name === "StorageUnavailableError";
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function isStoreDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = statusOf(error);
  if (status !== undefined) return status >= 500;
  return NETWORK_CODES.has((error as { code?: string }).code ?? "") || error.name === "TimeoutError";
}

/** The SDK's commands, loaded by s3Client() before there can be a client to send them with. */
function commands(): typeof Sdk {
  if (!sdk) throw new Error("s3Client() loads the AWS SDK before anything is sent.");
  return sdk;
}

export function createS3Storage({ client, bucket, prefix, temporaryDir, locks }: S3StorageOptions): BlobStorage {
  const { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, paginateListObjectsV2 } = commands();
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
  const upload = async (file: string, key: string) => {
    const { size } = await fs.stat(file);
    if (size <= PART_BYTES) {
      await fromFile(() => client.send(new PutObjectCommand({ Bucket, Key: keyOf(key), Body: createReadStream(file), ContentLength: size })));
    } else {
      await uploadInParts(client, { Bucket, Key: keyOf(key) }, file, size);
    }
  };

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
 * A multipart upload whose parts stream from their range of the file, a few at once: the
 * memory it takes is a few read buffers, whatever the file's size. A failed one is
 * aborted, so the store keeps no orphan parts.
 */
async function uploadInParts(client: S3Client, object: { Bucket: string; Key: string }, file: string, size: number): Promise<void> {
  const { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } = commands();
  const partBytes = Math.max(PART_BYTES, Math.ceil(size / MAX_PARTS));
  const count = Math.ceil(size / partBytes);
  const { UploadId } = await client.send(new CreateMultipartUploadCommand(object));
  try {
    const parts: { ETag?: string; PartNumber: number }[] = [];
    let next = 0;
    const sendParts = async () => {
      for (let index = next++; index < count; index = next++) {
        const start = index * partBytes;
        const end = Math.min(size, start + partBytes);
        const { ETag } = await fromFile(() =>
          client.send(
            new UploadPartCommand({
              ...object,
              UploadId,
              PartNumber: index + 1,
              Body: createReadStream(file, { start, end: end - 1 }),
              ContentLength: end - start,
            }),
          ),
        );
        parts[index] = { ETag, PartNumber: index + 1 };
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTS_AT_ONCE, count) }, sendParts));
    await client.send(new CompleteMultipartUploadCommand({ ...object, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ ...object, UploadId })).catch(() => undefined);
    throw error;
  }
}

/**
 * Sends a request whose body streams from a file, and again from a new stream when it
 * failed on the way or the store answered 5xx: the SDK retries other requests itself,
 * but cannot send a stream it has read once.
 */
async function fromFile<T>(send: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await send();
    } catch (error) {
      const status = statusOf(error);
      if (tries === FILE_REQUEST_TRIES || (status !== undefined && status < 500)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** tries));
    }
  }
}

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * At boot: the bucket is there and these credentials may write, read and remove in it,
 * else a ConfigError that says what to fix (rather than a 500 at the first upload).
 */
export async function checkBucket(client: S3Client, settings: S3Settings): Promise<void> {
  const { DeleteObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand } = commands();
  const where = `the S3 store ${settings.endpoint ?? `of region ${settings.region}`}`;
  const probe = `${settings.prefix}.cactus-probe/${randomUUID()}`;
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
    await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: probe, Body: "cactus" }));
    await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: probe }));
    await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: probe }));
  } catch (thrown) {
    const error = isStorageUnavailable(thrown) ? (thrown as Error).cause : thrown;
    const status = statusOf(error);
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
  const status = statusOf(error);
  return status === 404 || error.name === "NotFound" || error.name === "NoSuchKey" || error.name === "NoSuchBucket";
}

const capitalised = (text: string) => text[0].toUpperCase() + text.slice(1);
