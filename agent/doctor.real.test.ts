import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BLENDER } from "../tests/helpers/scenes";
import { resolveConfig } from "./config";
import { runDoctor } from "./doctor";
import { WORKER_TOKEN, type FakeFarm, startFakeFarm } from "./testing/fake-farm";

// `cactus-agent doctor` with Debian's Blender 3.4.1 for real: it makes its own scene and
// renders it through the agent's own argv (about three Blender seconds).

let farm: FakeFarm;
let dir: string;
beforeAll(async () => {
  farm = await startFakeFarm();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-doctor-real-"));
});
afterAll(async () => {
  await farm.close();
  await fs.rm(dir, { recursive: true, force: true });
});

test("the real Blender runs in its bwrap sandbox, renders the doctor's test frame, and every check passes", async () => {
  const config = resolveConfig(
    { server: farm.url, token: WORKER_TOKEN, blender: BLENDER, cacheDir: path.join(dir, "cache"), threads: 2 },
    {},
    {},
  );
  const checks = await runDoctor(config);
  expect(checks.map(({ name, status }) => [name, status])).toEqual([
    ["Sandbox", "ok"],
    ["Blender runs", "ok"],
    ["Denoiser", "info"],
    ["Blender renders", "ok"],
    ["Renders with Cycles", "ok"],
    ["Renders with Eevee", "ok"],
    ["Renders with Workbench", "ok"],
    ["Archive cache", "ok"],
    ["Server", "ok"],
    ["Worker token", "ok"],
  ]);
  expect(checks[3].detail).toMatch(/^a 32×24 test frame in \d+\.\d s$/);
  expect(checks[5].detail).toMatch(/^a 16×12 test frame in \d+\.\d s$/);
  expect(farm.to("POST", /\/agent\/hello$/)[0].body).toMatchObject({
    blenderVersion: expect.stringMatching(/^\d+\.\d+/),
    capabilities: { sandbox: "bwrap", engines: ["CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH"] },
  });
}, 90_000);

test("a path that is not Blender fails the first check, and the render is not tried", async () => {
  const config = resolveConfig({ server: farm.url, token: WORKER_TOKEN, blender: "/usr/bin/true", cacheDir: path.join(dir, "cache") }, {}, {});
  const checks = await runDoctor(config);
  expect(checks[1]).toEqual({ name: "Blender runs", status: "fail", detail: expect.stringMatching(/does not run as Blender.*CACTUS_BLENDER/) });
  expect(checks.map((check) => check.name)).not.toContain("Blender renders");
});
