import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { assertReachableByOthers } from "./embedded-postgres.server";
import { isConfigError } from "./env.server";

const made: string[] = [];
afterAll(() => Promise.all(made.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

async function folder(mode: number): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-reach-"));
  made.push(dir);
  await fs.chmod(dir, mode);
  return dir;
}

test("a data dir under a folder closed to others is refused with what to do", async () => {
  const closed = await folder(0o700);
  const refusal = await assertReachableByOthers(path.join(closed, "data")).catch((error: unknown) => error);
  expect(isConfigError(refusal)).toBe(true);
  expect((refusal as Error).message).toContain(`${closed} is closed to other users (mode 700)`);
  expect((refusal as Error).message).toMatch(/CACTUS_DATA_DIR=\/var\/lib\/cactus|chmod o\+x/);
});

test("a data dir whose every parent lets others through is fine", async () => {
  const open = await folder(0o711);
  await expect(assertReachableByOthers(path.join(open, "data"))).resolves.toBeUndefined();
});
