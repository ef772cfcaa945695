import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { ConfigError, DEFAULT_CACHE_BYTES, type Machine, configFilePath, loadConfig, parseBytes, readConfigFile, resolveConfig } from "./config";
import { parseSchedule } from "./schedule";

const user: Machine = { isRoot: false, home: "/home/ana", cores: 6 };
const root: Machine = { isRoot: true, home: "/root", cores: 6 };

const file = {
  server: "http://from-file:3000",
  token: "ccw_file",
  blender: "/opt/blender-file/blender",
  cacheDir: "/srv/file-cache",
  threads: 3,
  cacheBytes: "5G",
  schedule: "* 0-6 * * *",
  sandbox: "off",
  busyCpu: 30,
};
const env = {
  CACTUS_SERVER: "http://from-env:3000",
  CACTUS_WORKER_TOKEN: "ccw_env",
  CACTUS_BLENDER: "/opt/blender-env/blender",
  CACTUS_AGENT_CACHE: "/srv/env-cache",
  CACTUS_THREADS: "4",
  CACTUS_CACHE_BYTES: "10G",
  CACTUS_SCHEDULE: "* 22-23 * * *",
  CACTUS_SANDBOX: "auto",
  CACTUS_BUSY_CPU: "off",
};
const flags = {
  server: "flag-host:8080/",
  token: "ccw_flag",
  blender: "/opt/blender-flag/blender",
  cacheDir: "/srv/flag-cache",
  threads: "2",
  cacheBytes: "1G",
  schedule: "* * * * 1-5",
  sandbox: "bwrap",
  busyCpu: "70%",
};

describe("agent settings", () => {
  test("a flag wins over the env, which wins over the file", () => {
    expect(resolveConfig(flags, env, file, user)).toEqual({
      server: "http://flag-host:8080",
      token: "ccw_flag",
      blender: "/opt/blender-flag/blender",
      cacheDir: "/srv/flag-cache",
      threads: 2,
      cacheBytes: 1024 ** 3,
      schedule: "* * * * 1-5",
      sandbox: "bwrap",
      busyCpu: 0.7,
    });
    expect(resolveConfig({}, env, file, user)).toEqual({
      server: "http://from-env:3000",
      token: "ccw_env",
      blender: "/opt/blender-env/blender",
      cacheDir: "/srv/env-cache",
      threads: 4,
      cacheBytes: 10 * 1024 ** 3,
      schedule: "* 22-23 * * *",
      sandbox: "auto",
      busyCpu: null,
    });
    expect(resolveConfig({}, {}, file, user)).toEqual({
      server: "http://from-file:3000",
      token: "ccw_file",
      blender: "/opt/blender-file/blender",
      cacheDir: "/srv/file-cache",
      threads: 3,
      cacheBytes: 5 * 1024 ** 3,
      schedule: "* 0-6 * * *",
      sandbox: "off",
      busyCpu: 0.3,
    });
  });

  test("each setting falls through on its own, and empty values count as unset", () => {
    const config = resolveConfig({ token: "ccw_flag", server: "" }, { CACTUS_THREADS: "8", CACTUS_SERVER: "" }, { server: "http://file:1" }, user);
    expect(config).toMatchObject({ server: "http://file:1", token: "ccw_flag", threads: 8 });
  });

  test("defaults: `blender`, all cores, 20 GiB, always awake, the sandbox where it works, pausing at 50 % of others' CPU, a cache under ~/.cache or /var/cache for root", () => {
    expect(resolveConfig({}, {}, {}, user)).toEqual({
      server: undefined,
      token: undefined,
      blender: "blender",
      cacheDir: "/home/ana/.cache/cactus-agent",
      threads: 6,
      cacheBytes: DEFAULT_CACHE_BYTES,
      schedule: null,
      sandbox: "auto",
      busyCpu: 0.5,
    });
    expect(DEFAULT_CACHE_BYTES).toBe(20 * 1024 ** 3);
    expect(resolveConfig({}, {}, {}, root).cacheDir).toBe("/var/cache/cactus-agent");
  });

  test("bad values are refused with what to write instead", () => {
    expect(() => resolveConfig({ threads: "0" }, {}, {}, user)).toThrow(/Threads must be a whole number ≥ 1, not "0"/);
    expect(() => resolveConfig({}, { CACTUS_THREADS: "many" }, {}, user)).toThrow(ConfigError);
    expect(() => resolveConfig({}, { CACTUS_CACHE_BYTES: "lots" }, {}, user)).toThrow(/bytes like 20G or 500M, not "lots"/);
    expect(() => resolveConfig({ server: "ftp://farm" }, {}, {}, user)).toThrow(/not an http\(s\) URL/);
    expect(() => resolveConfig({}, { CACTUS_SANDBOX: "firejail" }, {}, user)).toThrow(/sandbox must be auto, bwrap or off, not "firejail"/);
    expect(resolveConfig({ sandbox: "OFF" }, {}, {}, user).sandbox).toBe("off");
  });

  test("--busy-cpu: a percentage (default 50) or off", () => {
    expect(resolveConfig({}, {}, {}, user).busyCpu).toBe(0.5);
    expect(resolveConfig({ busyCpu: "80%" }, {}, {}, user).busyCpu).toBe(0.8);
    expect(resolveConfig({}, { CACTUS_BUSY_CPU: "off" }, {}, user).busyCpu).toBeNull();
    expect(resolveConfig({}, {}, { busyCpu: 25 }, user).busyCpu).toBe(0.25);
    expect(() => resolveConfig({ busyCpu: "0" }, {}, {}, user)).toThrow(/percentage from 1 to 100, or off, not "0"/);
    expect(() => resolveConfig({ busyCpu: "lots" }, {}, {}, user)).toThrow(ConfigError);
  });

  test("cache sizes in bytes or binary units", () => {
    expect(parseBytes("21474836480")).toBe(20 * 1024 ** 3);
    expect(parseBytes("20G")).toBe(20 * 1024 ** 3);
    expect(parseBytes("20GiB")).toBe(20 * 1024 ** 3);
    expect(parseBytes("500 MB")).toBe(500 * 1024 ** 2);
    expect(parseBytes("1.5k")).toBe(1536);
    expect(() => parseBytes("0")).toThrow(ConfigError);
  });

  test("the file is /etc/cactus/agent.json unless CACTUS_AGENT_CONFIG names another; missing is empty, broken is an error", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-agent-config-"));
    expect(configFilePath({}, { ...user, home: dir })).toBe("/etc/cactus/agent.json");
    try {
      const named = path.join(dir, "agent.json");
      expect(configFilePath({ CACTUS_AGENT_CONFIG: named })).toBe(named);
      expect(await readConfigFile(named)).toEqual({});
      await fs.writeFile(named, JSON.stringify({ server: "http://farm:3000", token: "ccw_file" }));
      const config = await loadConfig({}, { CACTUS_AGENT_CONFIG: named, CACTUS_WORKER_TOKEN: "ccw_env" }, user);
      expect(config).toMatchObject({ server: "http://farm:3000", token: "ccw_env" });
      await fs.writeFile(named, "{ not json");
      await expect(readConfigFile(named)).rejects.toThrow(`The agent's config file ${named} is not valid JSON`);
      await fs.writeFile(named, JSON.stringify({ sever: "typo" }));
      await expect(readConfigFile(named)).rejects.toThrow(/settings it does not know.*server, token/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

test("a user's own agent (installed by the farm's install line) reads ~/.config/cactus/agent.json when it is there; root never does", async () => {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-agent-home-"));
  try {
    const own = path.join(home, ".config/cactus/agent.json");
    await fs.mkdir(path.dirname(own), { recursive: true });
    await fs.writeFile(own, JSON.stringify({ server: "http://farm:3000", token: "ccw_mine" }));
    expect(configFilePath({}, { ...user, home })).toBe(own);
    expect(await loadConfig({}, {}, { ...user, home })).toMatchObject({ server: "http://farm:3000", token: "ccw_mine" });
    expect(configFilePath({}, { ...user, home, isRoot: true })).toBe("/etc/cactus/agent.json");
    expect(configFilePath({ CACTUS_AGENT_CONFIG: "/elsewhere.json" }, { ...user, home })).toBe("/elsewhere.json");
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
});

describe("--schedule", () => {
  test("names the minutes the agent is awake", () => {
    const nights = parseSchedule("* 22-23,0-6 * * *");
    expect(nights.isAwake(new Date(2024, 4, 1, 23, 59, 59))).toBe(true);
    expect(nights.isAwake(new Date(2024, 4, 1, 3, 0, 30))).toBe(true);
    expect(nights.isAwake(new Date(2024, 4, 1, 7, 0, 0))).toBe(false);
    expect(nights.nextAwake(new Date(2024, 4, 1, 12, 34, 56))).toEqual(new Date(2024, 4, 1, 22, 0, 0));
  });

  test("weekdays only: from Saturday the next awake minute is Monday's first", () => {
    const weekdays = parseSchedule("* * * * 1-5");
    expect(weekdays.isAwake(new Date(2024, 4, 4, 12, 0))).toBe(false); // a Saturday
    expect(weekdays.nextAwake(new Date(2024, 4, 4, 12, 0))).toEqual(new Date(2024, 4, 6, 0, 0));
  });

  test("anything but 5 cron fields is refused with an example", () => {
    expect(() => parseSchedule("*/5 * * * * *")).toThrow(/5 fields of cron .* e\.g\. "\* 22-23,0-6 \* \* \*"/);
    expect(() => parseSchedule("nights")).toThrow(ConfigError);
    expect(() => parseSchedule("* 25 * * *")).toThrow(/is not a cron expression/);
  });
});
