import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import type { S3Settings } from "../../app/lib/env.server";
import { s3Client } from "../../app/lib/s3-storage.server";

// A local S3-compatible store for the tests: s3rver (an npm package, nothing downloaded),
// listening on a loopback port, its objects in a temp dir.

/** s3rver's fixed credentials: it checks request signatures against them. */
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface TestS3 {
  bucket: string;
  endpoint: string;
  settings: S3Settings;
  /** The server's CACTUS_S3_* settings for this store. */
  env: Record<string, string>;
  client: S3Client;
  /** The keys in the bucket under `prefix`, sorted. */
  keys(prefix?: string): Promise<string[]>;
  /** Stops answering (connections refused) until start(); the objects stay. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestS3(bucket = "cactus"): Promise<TestS3> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-s3-"));
  let port = 0;
  let server: S3rver | undefined;
  const start = async () => {
    server = new S3rver({ address: "127.0.0.1", port, directory, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
    port = (await server.run()).port;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  const settings: S3Settings = { bucket, prefix: "", region: "us-east-1", endpoint, forcePathStyle: true, credentials: CREDENTIALS };
  const client = await s3Client(settings);
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  return {
    bucket,
    endpoint,
    settings,
    env: {
      CACTUS_S3_BUCKET: bucket,
      CACTUS_S3_ENDPOINT: endpoint,
      CACTUS_S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      CACTUS_S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
    client,
    async keys(prefix = "") {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    stop,
    start,
    async close() {
      client.destroy();
      await stop();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
