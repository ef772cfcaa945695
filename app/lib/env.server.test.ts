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

  test.each([
    [{ PORT: "http" }, /PORT/],
    [{ DATABASE_URL: "mysql://x@y/z" }, /DATABASE_URL/],
    [{ CACTUS_ADMIN_USER: "a", CACTUS_ADMIN_PASSWORD: "long enough password" }, /CACTUS_ADMIN_USER: A username is 2–39/],
    [{ CACTUS_ADMIN_USER: "admin", CACTUS_ADMIN_PASSWORD: "short" }, /CACTUS_ADMIN_PASSWORD: A password has at least 10/],
    [{ CACTUS_ADMIN_USER: "admin" }, /Set both CACTUS_ADMIN_USER and CACTUS_ADMIN_PASSWORD/],
    [{ CACTUS_LEASE_SECONDS: "1" }, /CACTUS_LEASE_SECONDS/],
    [{ CACTUS_REAPER_SECONDS: "90" }, /CACTUS_REAPER_SECONDS/],
  ])("refuses %o with a message naming the setting", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
