import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "./env.server";

describe("loadConfig", () => {
  test("defaults: port 3000, 2 GiB archives, data dir made absolute", () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.CACTUS_MAX_ARCHIVE_BYTES).toBe(2 * 1024 ** 3);
    expect(config.dataDir).toMatch(/^\/.*\/data$/);
    expect(config.DATABASE_URL).toBeUndefined();
    expect([config.CACTUS_LEASE_SECONDS, config.CACTUS_REAPER_SECONDS]).toEqual([60, 10]);
  });

  test("an empty setting counts as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", CACTUS_ADMIN_USER: " ", CACTUS_ADMIN_PASSWORD: "" }).CACTUS_ADMIN_USER).toBeUndefined();
  });

  test("blobs stay in the data dir unless a bucket is set; with an endpoint the bucket goes in the path", () => {
    expect(loadConfig({}).s3).toBeNull();
    expect(loadConfig({ CACTUS_S3_BUCKET: "frames" }).s3).toEqual({
      bucket: "frames",
      prefix: "",
      region: "us-east-1",
      endpoint: undefined,
      forcePathStyle: false,
      credentials: undefined,
    });
    expect(
      loadConfig({
        CACTUS_S3_BUCKET: "frames",
        CACTUS_S3_ENDPOINT: "http://minio:9000",
        CACTUS_S3_PREFIX: "farm/blobs",
        CACTUS_S3_ACCESS_KEY_ID: "cactus",
        CACTUS_S3_SECRET_ACCESS_KEY: "secret-secret",
      }).s3,
    ).toEqual({
      bucket: "frames",
      prefix: "farm/blobs/",
      region: "us-east-1",
      endpoint: "http://minio:9000",
      forcePathStyle: true,
      credentials: { accessKeyId: "cactus", secretAccessKey: "secret-secret" },
    });
  });

  test.each([
    [{ PORT: "http" }, /PORT/],
    [{ DATABASE_URL: "mysql://x@y/z" }, /DATABASE_URL/],
    [{ CACTUS_ADMIN_USER: "a", CACTUS_ADMIN_PASSWORD: "long enough password" }, /CACTUS_ADMIN_USER: A username is 2–39/],
    [{ CACTUS_ADMIN_USER: "admin", CACTUS_ADMIN_PASSWORD: "short" }, /CACTUS_ADMIN_PASSWORD: A password has at least 10/],
    [{ CACTUS_ADMIN_USER: "admin" }, /Set both CACTUS_ADMIN_USER and CACTUS_ADMIN_PASSWORD/],
    [{ CACTUS_LEASE_SECONDS: "1" }, /CACTUS_LEASE_SECONDS/],
    [{ CACTUS_REAPER_SECONDS: "90" }, /CACTUS_REAPER_SECONDS/],
    [{ CACTUS_S3_BUCKET: "My_Bucket" }, /CACTUS_S3_BUCKET: a bucket name is 3-63 lowercase/],
    [{ CACTUS_S3_BUCKET: "frames", CACTUS_S3_ENDPOINT: "minio:9000" }, /CACTUS_S3_ENDPOINT: the store's URL, like http:\/\/minio:9000/],
    [{ CACTUS_S3_BUCKET: "frames", CACTUS_S3_ENDPOINT: "http://minio:9000/frames" }, /CACTUS_S3_ENDPOINT: the store's address without a path.*CACTUS_S3_BUCKET/],
    [{ CACTUS_S3_BUCKET: "frames", CACTUS_S3_PREFIX: "/farm" }, /CACTUS_S3_PREFIX: a prefix is like cactus\//],
    [{ CACTUS_S3_BUCKET: "frames", CACTUS_S3_FORCE_PATH_STYLE: "maybe" }, /CACTUS_S3_FORCE_PATH_STYLE/],
    [{ CACTUS_S3_ENDPOINT: "http://minio:9000" }, /CACTUS_S3_ENDPOINT is set but CACTUS_S3_BUCKET is not/],
    [{ CACTUS_S3_BUCKET: "frames", CACTUS_S3_ACCESS_KEY_ID: "cactus" }, /Set both CACTUS_S3_ACCESS_KEY_ID and CACTUS_S3_SECRET_ACCESS_KEY/],
  ])("refuses %o with a message naming the setting", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
