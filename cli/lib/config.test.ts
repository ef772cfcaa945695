import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import { admin } from "../testing/fixtures";
import { cactus, setupCliTest, writeTestConfig } from "../testing/run";
import { configPath, normalizeServer, readConfig, resolveSettings, writeConfig } from "./config";

const server = setupCliTest();

test("settings resolve flag > env > file, one setting at a time", () => {
  const file = { server: "http://file:1", token: "file-token" };
  const env = { CACTUS_SERVER: "http://env:2", CACTUS_TOKEN: "env-token" };
  expect(resolveSettings({ server: "http://flag:3", token: "flag-token" }, env, file)).toEqual({ server: "http://flag:3", token: "flag-token" });
  expect(resolveSettings({}, env, file)).toEqual({ server: "http://env:2", token: "env-token" });
  expect(resolveSettings({}, {}, file)).toEqual({ server: "http://file:1", token: "file-token" });
  expect(resolveSettings({ token: "flag-token" }, { CACTUS_SERVER: "http://env:2" }, file)).toEqual({
    server: "http://env:2",
    token: "flag-token",
  });
  expect(resolveSettings({}, {}, {})).toEqual({ server: undefined, token: undefined });
});

test("the config file is $CACTUS_CONFIG, else ~/.config/cactus/config.json", () => {
  expect(configPath({ CACTUS_CONFIG: "/x/c.json" })).toBe("/x/c.json");
  expect(configPath({})).toBe(path.join(os.homedir(), ".config", "cactus", "config.json"));
});

test("server URLs are normalised and bad ones refused as usage errors", () => {
  expect(normalizeServer("localhost:3000/")).toBe("http://localhost:3000");
  expect(normalizeServer("https://farm.example/cactus/")).toBe("https://farm.example/cactus");
  expect(() => normalizeServer("ftp://farm")).toThrow(expect.objectContaining({ exitCode: 2 }));
  expect(() => normalizeServer("http://")).toThrow(expect.objectContaining({ exitCode: 2 }));
});

test("the config is written 0600 in a 0700 directory, even over a looser existing file", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-config-"));
  const file = path.join(dir, "nested", "config.json");
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, "{}", { mode: 0o644 });
  await writeConfig(file, { server: "http://a", token: "t" });
  expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  expect(await readConfig(file)).toEqual({ server: "http://a", token: "t" });
  const fresh = path.join(dir, "fresh", "config.json");
  await writeConfig(fresh, {});
  expect((await fs.stat(path.dirname(fresh))).mode & 0o777).toBe(0o700);
  expect(await fs.readdir(path.dirname(file))).toEqual(["config.json"]);
  await fs.rm(dir, { recursive: true });
});

test("a broken config file is an error that names it", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-config-"));
  const file = path.join(dir, "config.json");
  await fs.writeFile(file, "{not json");
  await expect(readConfig(file)).rejects.toThrow(file);
  await fs.rm(dir, { recursive: true });
});

function recordMe() {
  const seen: { host: string; auth: string | null }[] = [];
  for (const host of ["file.test", "env.test", "flag.test"]) {
    server.use(
      http.get(`http://${host}/api/v1/me`, ({ request }) => {
        seen.push({ host, auth: request.headers.get("authorization") });
        return HttpResponse.json(admin);
      }),
    );
  }
  return seen;
}

test("a command uses the flag over the env over the file, for server and token", async () => {
  await writeTestConfig({ server: "http://file.test", token: "file-token" });
  const seen = recordMe();
  const env = { CACTUS_SERVER: "http://env.test", CACTUS_TOKEN: "env-token" };
  expect((await cactus(["whoami"])).code).toBe(0);
  expect((await cactus(["whoami"], { env })).code).toBe(0);
  expect((await cactus(["whoami", "--server", "http://flag.test", "--token", "flag-token"], { env })).code).toBe(0);
  expect(seen).toEqual([
    { host: "file.test", auth: "Bearer file-token" },
    { host: "env.test", auth: "Bearer env-token" },
    { host: "flag.test", auth: "Bearer flag-token" },
  ]);
});
