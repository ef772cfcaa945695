import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { creditsSchema, renderSchema, requestListSchema, uploadedArchiveSchema, type RenderDto } from "../../contract";
import { grant } from "../../db/sql/ledger";
import { paymentMilli } from "../../domain/ledger";
import { startFarm, type Farm, type FarmAgent } from "../helpers/e2e-farm";
import { makeScene } from "../helpers/scenes";
import { createUserWithToken, testDatabase } from "../helpers/users";

// Credits between people on the real stack (issue 11): the server, `cactus-agent`
// processes with real Blender, the `cactus` CLI. The requester asks for a quote, confirms
// it; a helper sees the request and accepts it; the helper's worker renders and is paid
// WU × price of exactly its frames; a third person's dearer render jumps ahead on it.

const BIN = path.resolve(import.meta.dirname, "../../cli/bin/cactus.js");

let farm: Farm;
let helper: { id: number; token: string };
let rich: { id: number; token: string };

beforeAll(async () => {
  farm = await startFarm({ username: "requester" });
  const made = await Promise.all([createUserWithToken(farm.server, "helper"), createUserWithToken(farm.server, "rich")]);
  [helper, rich] = made.map(({ user, token }) => ({ id: user.id, token }));
  const db = testDatabase(farm.server);
  await db.transaction(async (t) => {
    await grant(db, farm.userId, 500_000, t);
    await grant(db, rich.id, 500_000, t);
  });
}, 300_000);
afterAll(() => farm?.stop());

/** `cactus ARGS --json` as `token`'s user; its parsed stdout. */
async function cactusJson(args: string[], token: string): Promise<unknown> {
  const child = spawn(process.execPath, [BIN, ...args, "--json"], {
    env: Object.assign({} as NodeJS.ProcessEnv, {
      PATH: process.env.PATH ?? "",
      HOME: farm.root,
      NO_COLOR: "1",
      CACTUS_SERVER: farm.url,
      CACTUS_TOKEN: token,
      CACTUS_CONFIG: path.join(farm.root, "no-config.json"),
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on("close", resolve));
  expect({ code, stderr }).toMatchObject({ code: 0 });
  return JSON.parse(stdout);
}

const balance = async (token: string) => creditsSchema.parse(await cactusJson(["credits"], token)).balance;

/** Uploads a scene as `token`'s user into a project of theirs; waits for its facts. */
async function upload(token: string, frames: number) {
  const project = (await farm.json<{ id: number }>("/projects", { body: { name: `p-${Date.now()}` }, token }, 201)).id;
  const response = await fetch(`${farm.url}/api/v1/projects/${project}/archives?filename=scene.blend`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream" },
    body: new Uint8Array(await fs.readFile(await makeScene({ frames }))),
  });
  expect(response.status).toBe(201);
  const archive = uploadedArchiveSchema.parse(await response.json());
  await farm.waitFor(
    `archive ${archive.id} inspected`,
    async () => (await farm.json<{ facts: { frameEnd: number | null } }>(`/archives/${archive.id}`, { token })).facts.frameEnd !== null,
    60_000,
  );
  return archive.id;
}

async function renderOf(id: number, token: string): Promise<RenderDto> {
  return renderSchema.parse(await farm.json(`/renders/${id}`, { token }));
}

async function waitFor(id: number, token: string, done: (render: RenderDto) => boolean, timeoutMs: number) {
  let last: RenderDto | undefined;
  await farm.waitFor(`render ${id}`, async () => done((last = await renderOf(id, token))), timeoutMs, () => JSON.stringify(last));
  return last!;
}

/** Requests a quote with the owner's own worker, then stops that worker: the rest is for helpers. */
async function quotedOnOwnWorker(token: string, own: FarmAgent, frames: number, price: number) {
  const archiveId = await upload(token, frames);
  const requested = renderSchema.parse(await farm.json("/renders", { body: { archiveId, frames: `1-${frames}`, estimateOnly: true, price }, token }, 201));
  expect(requested.status).toBe("estimating");
  const quoted = await waitFor(requested.id, token, (r) => r.status !== "estimating", 180_000);
  expect(quoted.status, farm.logs()).toBe("quoted");
  await farm.stopAgent(own);
  return quoted;
}

test("requester quotes and confirms, helper accepts and is paid for exactly its frames, a dearer render jumps ahead", async () => {
  const requesterOwn = await farm.addAgent({ name: "requester-pc" });
  const richOwn = await farm.addAgent({ name: "rich-pc", token: rich.token });

  // The requester: a quote first (--estimate-only), rendered by their own machine.
  const quoted = await quotedOnOwnWorker(farm.token, requesterOwn, 24, 2);
  const before = await balance(farm.token);
  const confirmed = renderSchema.parse(await farm.json(`/renders/${quoted.id}/confirm`, { method: "POST" }));
  expect(confirmed.status).toBe("queued");
  // The quote's upper bound is in escrow now.
  expect(confirmed.escrow).toBeGreaterThan(0);
  expect(await balance(farm.token)).toBeCloseTo(before - confirmed.escrow, 3);

  // The rich one's render pays more per WU; quoted and confirmed the same way.
  const richQuoted = await quotedOnOwnWorker(rich.token, richOwn, 6, 10);
  const richConfirmed = renderSchema.parse(await farm.json(`/renders/${richQuoted.id}/confirm`, { method: "POST", token: rich.token }));
  expect(richConfirmed.status).toBe("queued");
  // Generous: on this busy machine frames cost more than their quote, and a thin escrow
  // would (rightly) send the helper back to the cheaper render between two of these.
  await cactusJson(["render", "top-up", String(richQuoted.id), "300"], rich.token);

  // The helper sees both requests, with the scene's facts, the quote and the price.
  const helperAgent = await farm.addAgent({ name: "helper-pc", token: helper.token });
  const { requests } = requestListSchema.parse(await cactusJson(["request", "list"], helper.token));
  const card = requests.find((request) => request.renderId === quoted.id)!;
  expect(card).toMatchObject({ owner: "requester", decision: null, price: 2, scene: { frames: 24, engine: expect.any(String) } });
  expect(card.quote!.totalWu).toBeGreaterThan(0);
  expect(requests.map((request) => request.renderId)).toContain(richQuoted.id);
  // Sandboxed, or — where bwrap cannot run here — its owner says so knowingly.
  const [{ capabilities }] = (await farm.json<{ workers: { capabilities: { sandbox?: string } }[] }>("/workers", { token: helper.token })).workers;
  if (capabilities.sandbox !== "bwrap") {
    await farm.json(`/workers/${helperAgent.workerId}`, { method: "PATCH", body: { othersUnsandboxed: true }, token: helper.token });
  }

  // Accepted: the helper's machine takes the requester's frames.
  await cactusJson(["request", "accept", String(quoted.id)], helper.token);
  await waitFor(quoted.id, farm.token, (r) => r.frames.done >= quoted.frames.done + 3, 180_000);
  // Then the rich one's: its frames come next on the helper's machine, ahead of the cheaper ones.
  const acceptedRichAt = new Date();
  await cactusJson(["request", "accept", String(richQuoted.id)], helper.token);
  await waitFor(richQuoted.id, rich.token, (r) => r.status === "done", 180_000);
  // Frames can cost more than the quote said (this machine is shared and busy): when the
  // escrow cannot pay the next one the render waits in needs-credits, and a top-up
  // (`cactus render top-up`) lets it go on. What it paid does not change.
  let topUps = 0;
  const done = await waitFor(
    quoted.id,
    farm.token,
    (r) => {
      if (r.status === "needs-credits" && topUps < 10) {
        topUps += 1;
        void cactusJson(["render", "top-up", String(quoted.id), "20"], farm.token);
      }
      return r.status === "done" || r.status === "failed";
    },
    300_000,
  );
  expect(done.status, farm.logs()).toBe("done");

  // On the helper's machine, after the rich render was accepted: at most the frame it was
  // rendering then of the cheaper render and the one it had claimed while uploading the
  // last (the agent overlaps, decision 011), then all the rich render's frames left.
  const byHelper = await farm.query<{ render_id: number; frame: number; created_at: Date; wu: number }>(
    "SELECT render_id, frame, created_at, wu FROM results WHERE worker_id = $worker AND accepted ORDER BY id",
    { worker: helperAgent.workerId },
  );
  const afterAcceptance = byHelper.filter((result) => result.created_at >= acceptedRichAt);
  const firstRich = afterAcceptance.findIndex((result) => Number(result.render_id) === richQuoted.id);
  expect(firstRich, JSON.stringify(afterAcceptance)).toBeGreaterThanOrEqual(0);
  expect(firstRich).toBeLessThanOrEqual(2);
  const richLeft = afterAcceptance.filter((result) => Number(result.render_id) === richQuoted.id).length;
  const events = await farm.query("SELECT render_id, event, to_status, created_at FROM render_events ORDER BY id");
  const story = JSON.stringify({ acceptedRichAt, afterAcceptance, events });
  expect(afterAcceptance.slice(firstRich, firstRich + richLeft).every((result) => Number(result.render_id) === richQuoted.id), story).toBe(true);

  // Money: the requester paid, and the helper earned, exactly WU × price of the helper's frames.
  const helperFrames = byHelper.filter((result) => Number(result.render_id) === quoted.id);
  expect(helperFrames.length).toBeGreaterThan(0);
  const owed = helperFrames.reduce((sum, result) => sum + paymentMilli(result.wu, 2000), 0) / 1000;
  const richOwed = byHelper.filter((result) => Number(result.render_id) === richQuoted.id).reduce((sum, result) => sum + paymentMilli(result.wu, 10_000), 0) / 1000;
  expect(await balance(farm.token)).toBeCloseTo(before - owed, 3);
  expect(await balance(helper.token)).toBeCloseTo(owed + richOwed, 3);
  const finished = await renderOf(quoted.id, farm.token);
  expect(finished.escrow).toBe(0);
}, 900_000);
