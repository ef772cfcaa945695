import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ConfigError, type S3Settings } from "../../app/lib/env.server";
import { checkBucket, s3Client } from "../../app/lib/s3-storage.server";
import { createTestDatabase } from "../helpers/db";
import { Replica } from "../helpers/replicas";
import { startTestS3, type TestS3 } from "../helpers/s3";

// A server set to keep blobs in S3 checks at boot that it can: a bucket that is not
// there, refused credentials or no store at all stop the start with what to fix, rather
// than failing the first upload.

let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(() => s3?.close());

async function refusal(settings: S3Settings): Promise<ConfigError> {
  const client = await s3Client(settings);
  try {
    await checkBucket(client, settings);
  } catch (error) {
    return error as ConfigError;
  } finally {
    client.destroy();
  }
  throw new Error("the bucket check passed");
}

test("a bucket that answers, with credentials that may write to it, passes; the probe leaves nothing behind", async () => {
  const client = await s3Client(s3.settings);
  await checkBucket(client, s3.settings);
  client.destroy();
  expect(await s3.keys()).toEqual([]);
});

test("a bucket that is not there says how to make it", async () => {
  const error = await refusal({ ...s3.settings, bucket: "no-such-bucket" });
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toBe(
    `The bucket "no-such-bucket" does not exist in the S3 store ${s3.endpoint}. Create it (MinIO: mc mb ALIAS/no-such-bucket; ` +
      "AWS: aws s3 mb s3://no-such-bucket), or set CACTUS_S3_BUCKET to one that exists.",
  );
});

test("refused credentials name the settings to check", async () => {
  const error = await refusal({ ...s3.settings, credentials: { accessKeyId: "nobody", secretAccessKey: "wrong-secret" } });
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toMatch(/^The S3 store http:\/\/127\.0\.0\.1:\d+ refused access to the bucket "cactus" \(HTTP 403\)\. Check CACTUS_S3_ACCESS_KEY_ID/);
});

test("no store listening names the endpoint", async () => {
  const down = await startTestS3("down");
  await down.stop();
  const error = await refusal(down.settings);
  await down.close();
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toMatch(/^Cannot use the S3 store http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED: .*\)\. Check CACTUS_S3_ENDPOINT/);
});

test("a bucket in another region (AWS's 301) names the region to set", async () => {
  // AWS itself is out of reach here: a stand-in answers as it does for a bucket of another region.
  const aws = http.createServer((request, response) => {
    response.writeHead(301, { "x-amz-bucket-region": "eu-west-1", "x-amz-request-id": "1" });
    response.end();
  });
  await new Promise<void>((resolve) => aws.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(aws.address() as AddressInfo).port}`;
  try {
    const error = await refusal({ ...s3.settings, endpoint });
    expect(error.message).toBe(`The bucket "cactus" is not in region us-east-1 of the S3 store ${endpoint}: it is in eu-west-1. Set CACTUS_S3_REGION=eu-west-1.`);
  } finally {
    aws.close();
  }
});

test("no credentials anywhere names the settings that give them", async () => {
  // The AWS SDK's own chain, with nothing in it: no AWS_* variables, no ~/.aws, no instance role.
  const saved = { ...process.env };
  const home = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-no-aws-"));
  for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
  Object.assign(process.env, { HOME: home, AWS_EC2_METADATA_DISABLED: "true" });
  try {
    const error = await refusal({ ...s3.settings, credentials: undefined });
    expect(error.message).toBe(
      `The server found no credentials for the S3 store ${s3.endpoint}. Set CACTUS_S3_ACCESS_KEY_ID and CACTUS_S3_SECRET_ACCESS_KEY ` +
        "(or give it AWS's own: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role).",
    );
  } finally {
    process.env = saved;
    await fs.rm(home, { recursive: true, force: true });
  }
});

test("https:// to a store that speaks http:// says so in one line", async () => {
  const error = await refusal({ ...s3.settings, endpoint: s3.endpoint.replace("http:", "https:") });
  expect(error.message).toMatch(/^Cannot use the S3 store https:\/\/127\.0\.0\.1:\d+ \(EPROTO: [^\n]+\)\. Does it speak http:\/\/ where https:\/\/ is set, or the other way round\? Check CACTUS_S3_ENDPOINT/);
  expect(error.message).not.toContain("\n");
});

test("the server refuses to start on a missing bucket: one message, exit 1, no stack", async () => {
  const start = Replica.start({ name: "nobucket", databaseUrl: await createTestDatabase(), env: { ...s3.env, CACTUS_S3_BUCKET: "missing" } });
  await expect(start).rejects.toThrow(/exited \(1\) before serving/);
  const message = String(await start.catch((error: Error) => error.message));
  expect(message).toContain('The bucket "missing" does not exist in the S3 store');
  expect(message).not.toMatch(/\n\s+at /);
});
