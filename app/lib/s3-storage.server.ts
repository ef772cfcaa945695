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
    logger: quietLogger,
  });
  // Outermost, so after the SDK's own retries: a store that cannot serve the farm becomes
  // one error the API answers 503, whichever request it was.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        // The request's bucket: a client may serve more than the farm's (the tests' do).
        const fault = storeFault(error, settings, (args.input as { Bucket?: string }).Bucket ?? settings.bucket);
        throw fault ? new StorageUnavailableError(error as Error, fault) : error;
      }
    },
    { step: "initialize", name: "cactusStorageUnavailable" },
  );
  return client;
}

/**
 * The SDK's warnings, less one: it warns of every failed request whose body is a stream,
 * which it cannot send twice (fromFile below sends those again itself). Its errors are
 * every failed request, a blob not there included: the API logs what matters, once.
 */
const quietLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message: unknown) => {
    if (!/non-retryable streaming request/.test(String(message))) console.warn(message);
  },
  error: () => undefined,
};

/**
 * The store cannot serve the farm now: it did not answer, failed (5xx), or refused the
 * farm's bucket or credentials. Requests get a 503 to try again (an agent keeps its
 * frame and retries, rather than failing the task), and the log says what to fix.
 */
export class StorageUnavailableError extends Error {
  override name = "StorageUnavailableError";
  readonly code: string | undefined;
  constructor(cause: Error, what: string) {
    super(`The blob store ${what}`, { cause });
    this.code = (cause as { code?: string }).code ?? cause.name;
  }
}

/** By name, not instanceof: like ConfigError, it crosses the server's two bundles. */
export function isStorageUnavailable(error: unknown): boolean {
  return error instanceof Error && error.name === "StorageUnavailableError";
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * What keeps the store from serving the farm, said for the log; undefined for an answer
 * about one object (not there, a range past its end…), which the caller handles.
 */
function storeFault(error: unknown, settings: S3Settings, bucket: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const status = statusOf(error);
  // Its credentials and bucket are the farm's own, whoever made the request: their
  // refusal is the operator's to fix, not the request's fault.
  if (error.name === "NoSuchBucket") return noBucket(bucket);
  if (error.name === "CredentialsProviderError") return `cannot be used: the server found no credentials for it (${error.message}).`;
  if (status === 403) return `refused the farm's credentials (${errorName(error)}): check CACTUS_S3_ACCESS_KEY_ID and CACTUS_S3_SECRET_ACCESS_KEY, and the server's clock.`;
  if (status === 301 || (status === 400 && bucketRegion(error))) {
    return `says the bucket "${bucket}" is not in region ${settings.region}${regionHint(error)}.`;
  }
  if (status !== undefined) return status >= 500 ? `failed (${status} ${errorName(error)}): ${error.message}` : undefined;
  if (NETWORK_CODES.has((error as { code?: string }).code ?? "") || error.name === "TimeoutError") return `did not answer: ${error.message}`;
  return undefined;
}

const noBucket = (bucket: string) => `has no bucket "${bucket}" (CACTUS_S3_BUCKET): it was removed, or it is in another store.`;

/** The name of an S3 error; an answer without a body (HEAD) has none but its status. */
const errorName = (error: Error) => (error.name === "Unknown" || /^\d+$/.test(error.name) ? `HTTP ${statusOf(error)}` : error.name);

/** AWS names the bucket's region in a header of its refusal. */
function bucketRegion(error: unknown): string | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string> } }).$response?.headers;
  return headers?.["x-amz-bucket-region"];
}

const regionHint = (error: unknown) => {
  const region = bucketRegion(error);
  return region ? `: it is in ${region} (set CACTUS_S3_REGION=${region})` : " (CACTUS_S3_REGION)";
};

/** The SDK's commands, loaded by s3Client() before there can be a client to send them with. */
function commands(): typeof Sdk {
  if (!sdk) throw new Error("s3Client() loads the AWS SDK before anything is sent.");
  return sdk;
}

export function createS3Storage({ client, bucket, prefix, temporaryDir, locks }: S3StorageOptions): BlobStorage {
  const { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, paginateListObjectsV2 } = commands();
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
  const ensureBucket = async () => {
    try {
      await client.send(new HeadBucketCommand({ Bucket }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new StorageUnavailableError(error as Error, noBucket(bucket));
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
      if (found) return found.ContentLength ?? 0;
      // An answer to HEAD has no body to tell a missing object from a missing bucket: asked
      // once more, so that a removed bucket is the operator's 503, not a frame "missing"
      // (or an archive whose agent then fails its task).
      await ensureBucket();
      return null;
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
      // Sent again: a stream cut on its way, a store that failed or did not answer. Not a
      // refusal (of the bucket, the credentials, the request), which would only repeat.
      const cause = isStorageUnavailable(error) ? (error as Error).cause : error;
      const status = statusOf(cause);
      const refused = (status !== undefined && status < 500) || (cause as Error).name === "CredentialsProviderError";
      if (tries === FILE_REQUEST_TRIES || refused) throw error;
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
    const error = (isStorageUnavailable(thrown) ? (thrown as Error).cause : thrown) as Error;
    const status = statusOf(error);
    const name = errorName(error);
    if (error.name === "CredentialsProviderError") {
      throw new ConfigError(
        `The server found no credentials for ${where}. Set CACTUS_S3_ACCESS_KEY_ID and CACTUS_S3_SECRET_ACCESS_KEY ` +
          "(or give it AWS's own: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role).",
      );
    }
    const region = bucketRegion(error);
    if (status === 301 || (status === 400 && region)) {
      throw new ConfigError(
        `The bucket "${settings.bucket}" is not in region ${settings.region} of ${where}` +
          (region ? `: it is in ${region}. Set CACTUS_S3_REGION=${region}.` : ". Set CACTUS_S3_REGION to the bucket's region."),
      );
    }
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
    // OpenSSL's reasons run over several lines of its source's places; its reason says enough.
    const message = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? String(error.message).split("\n")[0].trim();
    const tls = code === "EPROTO" || /wrong version number|SSL/.test(message) ? " Does it speak http:// where https:// is set, or the other way round?" : "";
    throw new ConfigError(
      `Cannot use ${where} (${code}: ${message}).${tls} Check CACTUS_S3_ENDPOINT and CACTUS_S3_REGION, and that the store is running.`,
    );
  }
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = statusOf(error);
  return status === 404 || error.name === "NotFound" || error.name === "NoSuchKey" || error.name === "NoSuchBucket";
}

const capitalised = (text: string) => text[0].toUpperCase() + text.slice(1);
