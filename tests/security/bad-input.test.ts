import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { apiErrorSchema, endpoints, type Endpoint } from "../../contract";
import { QueryTypes, type Sequelize } from "sequelize";
import { blend, entry, zip } from "../helpers/archive-api";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, testDatabase } from "../helpers/users";
import { buildOwnerFarm, type OwnerFarm, type Principal } from "./owner-farm";
import { ROUTES, urlOf, type RouteRow } from "./route-table";

// Bad input to every endpoint, sent by the owner (so it is the input, not the caller,
// that is refused): each case must be a 4xx (in the API's error shape on /api), leave no
// stack trace in the server's log, and change nothing in the database.

let server: TestServer;
let farm: OwnerFarm;
let sequelize: Sequelize;

beforeAll(async () => {
  server = await startTestServer({ CACTUS_TRUST_PROXY: "1" });
  farm = await buildOwnerFarm(server);
  sequelize = testDatabase(server);
}, 60_000);
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

interface Case {
  name: string;
  row: RouteRow;
  method?: string;
  /** The path with the owner's ids, or a path of its own. */
  url?: string;
  headers?: Record<string, string>;
  body?: BodyInit;
  /** The status expected, when it is one in particular (else any 4xx). */
  status?: number;
  message?: RegExp;
}

const CALLER: Record<RouteRow["access"], Principal> = { public: "owner", user: "owner", worker: "ownerWorker", page: "ownerCookie" };
const row = (name: string) => ROUTES.find((candidate) => candidate.endpoint === name)!;
const json = (value: unknown) => JSON.stringify(value);
const HELLO_BODY = { blenderVersion: "3.4.1", capabilities: { denoiser: false, threads: 2 } };
const apiRows = ROUTES.filter((candidate) => candidate.endpoint);
const BAD_IDS = ["0", "-1", "abc", "9".repeat(25), "1.5", "%00", "x".repeat(300)];
const BAD_FRAMES = ["1-10:2147483648", "1-10:99999999999999999999", "99999999999-1", "10-1", "-5-3", "1-2-3", "a-b", "1-2:0", "", " ".repeat(5)];
const CONTROL_NAMES = ["shot\u0000010", "shot\n010", "a\u202egnp.exe", "\u001b[31mred", "x".repeat(101), "   "];

function cases(): Case[] {
  const all: Case[] = [];
  const add = (item: Case) => all.push(item);

  for (const route of apiRows) {
    const endpoint = endpoints[route.endpoint!] as Endpoint;
    // A malformed Authorization header: 401, whatever the endpoint (public ones ignore it or refuse the body).
    if (route.access !== "public") {
      add({ name: `${route.endpoint}: malformed Authorization`, row: route, headers: { Authorization: "Bearer" }, status: 401 });
      add({ name: `${route.endpoint}: a token of the wrong kind`, row: route, headers: { Authorization: route.access === "worker" ? (farm.callers.owner.Authorization ?? "") : (farm.callers.ownerWorker.Authorization ?? "") }, status: 401 });
    }
    // Every id in the path, written wrong.
    for (const param of [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1])) {
      const values = param === "hash" ? ["ABC", "g".repeat(64), "0".repeat(63)] : param === "change" ? ["explode", "CANCEL"] : BAD_IDS.slice(0, param === "frame" ? 7 : 4);
      for (const value of values) {
        add({ name: `${route.endpoint}: {${param}} = ${JSON.stringify(value.slice(0, 30))}`, row: route, url: urlOf(route, { ...farm.ids, [param]: value }) });
      }
    }
    // JSON bodies that are not what the endpoint takes.
    if (endpoint.request) {
      add({ name: `${route.endpoint}: a body that is not JSON`, row: route, body: "{", status: 400, message: /not valid JSON/ });
      add({ name: `${route.endpoint}: a JSON array`, row: route, body: "[]", status: 400 });
      add({ name: `${route.endpoint}: a JSON string`, row: route, body: json("text"), status: 400 });
      add({ name: `${route.endpoint}: JSON null`, row: route, body: "null", status: 400 });
      add({ name: `${route.endpoint}: a body over 1 MiB`, row: route, body: json({ padding: "x".repeat(1_100_000) }), status: 413 });
      const good = route.body?.(farm.ids) as Record<string, unknown> | undefined;
      for (const field of Object.keys(good ?? {})) {
        add({ name: `${route.endpoint}: ${field} as an object`, row: route, body: json({ ...good, [field]: { $gt: "" } }), status: 400 });
      }
    }
  }

  // Names and emails (the input edges of issue 10).
  for (const name of CONTROL_NAMES) {
    const shown = JSON.stringify(name.slice(0, 12));
    add({ name: `createProject: name ${shown}`, row: row("createProject"), body: json({ name }), status: 400 });
    add({ name: `renameProject: name ${shown}`, row: row("renameProject"), body: json({ name }), status: 400 });
    add({ name: `createWorker: name ${shown}`, row: row("createWorker"), body: json({ name }), status: 400 });
    add({ name: `updateWorker: name ${shown}`, row: row("updateWorker"), body: json({ name }), status: 400 });
    add({ name: `createToken: name ${shown}`, row: row("createToken"), body: json({ name }), status: 400 });
  }
  for (const email of [`${"a".repeat(64)}@${"b".repeat(190)}.com`, "no-at-sign", "a@b", "a\n@example.com", ""]) {
    add({ name: `createInvitation: email ${JSON.stringify(email.slice(0, 20))} (${email.length} chars)`, row: row("createInvitation"), body: json({ email }), status: 400 });
  }
  add({ name: "login: tokenName with a newline", row: row("login"), body: json({ username: "owner", password: "owner-password-123", tokenName: "a\nb" }), status: 400 });
  add({ name: "signup: username with a space", row: row("signup"), body: json({ invite: "cci_x", username: "a b", password: "a long enough password" }), status: 400 });

  // Frames and steps.
  for (const frames of BAD_FRAMES) {
    add({ name: `requestRender: frames ${JSON.stringify(frames)}`, row: row("requestRender"), body: json({ archiveId: Number(farm.ids.archiveId), frames }), status: 400 });
  }
  for (const frames of BAD_FRAMES.slice(0, 5)) {
    add({ name: `downloadRender: frames ${JSON.stringify(frames)}`, row: row("downloadRender"), url: `/api/v1/renders/${farm.ids.renderId}/download.zip?frames=${encodeURIComponent(frames)}`, status: 400 });
  }
  for (const [field, value] of [["chunk", 0], ["chunk", 1001], ["price", -1], ["format", "TIFF"], ["archiveHash", "ABC"]] as const) {
    add({ name: `requestRender: ${field} ${value}`, row: row("requestRender"), body: json({ archiveId: Number(farm.ids.archiveId), frames: "1-2", [field]: value }), status: 400 });
  }
  add({ name: "requestRender: both archiveId and archiveHash", row: row("requestRender"), body: json({ archiveId: 1, archiveHash: farm.ids.hash, frames: "1-2" }), status: 400 });

  // Uploads.
  const upload = row("uploadArchive");
  const uploadTo = (query: Record<string, string>) => `/api/v1/projects/${farm.ids.projectId}/archives?${new URLSearchParams(query)}`;
  const octets = { "Content-Type": "application/octet-stream" };
  add({ name: "uploadArchive: no filename", row: upload, url: `/api/v1/projects/${farm.ids.projectId}/archives`, headers: octets, body: new Uint8Array(blend(300)), status: 400 });
  for (const filename of ["a/b.blend", "..\\x.blend", "a\u0000.blend", "a\u202e.blend", "x".repeat(256)]) {
    add({ name: `uploadArchive: filename ${JSON.stringify(filename.slice(0, 12))}`, row: upload, url: uploadTo({ filename }), headers: octets, body: new Uint8Array(blend(300)), status: 400 });
  }
  add({ name: "uploadArchive: an empty body", row: upload, url: uploadTo({ filename: "e.blend" }), headers: octets, body: new Uint8Array(0), status: 422 });
  add({ name: "uploadArchive: not a .blend", row: upload, url: uploadTo({ filename: "e.blend" }), headers: octets, body: new Uint8Array(Buffer.from("hello")), status: 422 });
  add({ name: "uploadArchive: a bad X-Content-Sha256", row: upload, url: uploadTo({ filename: "e.blend" }), headers: { ...octets, "X-Content-Sha256": "xyz" }, body: new Uint8Array(blend(301)), status: 400 });
  add({ name: "uploadArchive: a sha256 that does not match", row: upload, url: uploadTo({ filename: "e.blend" }), headers: { ...octets, "X-Content-Sha256": "0".repeat(64) }, body: new Uint8Array(blend(302)), status: 422 });
  const liar = zip(entry("scene.blend", blend(300)), entry("a.raw", Buffer.alloc(5000), { method: "deflate", declaredSize: 10 }));
  add({ name: "uploadArchive: a zip whose entry lies about its size", row: upload, url: uploadTo({ filename: "liar.zip" }), headers: octets, body: new Uint8Array(liar), status: 422, message: /declares 10 bytes but unpacks to 5000/ });
  add({ name: "uploadArchive: main with a control character", row: upload, url: uploadTo({ filename: "z.zip", main: "a\u0000.blend" }), headers: octets, body: new Uint8Array(blend(303)), status: 400 });
  add({ name: "dedupeArchive: a sha256 nobody uploaded", row: row("dedupeArchive"), body: json({ sha256: "1".repeat(64), filename: "x.blend" }), status: 404 });

  // The agents' API.
  const frameUpload = row("agentUploadFrame");
  const frameUrl = (query: Record<string, string>, frame = farm.ids.frame) => `/api/v1/agent/tasks/${farm.ids.taskId}/frames/${frame}?${new URLSearchParams(query)}`;
  const png = { "Content-Type": "image/png" };
  add({ name: "agentUploadFrame: no lease token", row: frameUpload, url: frameUrl({ renderTimeMs: "1" }), headers: png, body: new Uint8Array(8), status: 400 });
  add({ name: "agentUploadFrame: a lease token that is not a uuid", row: frameUpload, url: frameUrl({ leaseToken: "nope", renderTimeMs: "1" }), headers: png, body: new Uint8Array(8), status: 400 });
  add({ name: "agentUploadFrame: another lease", row: frameUpload, url: frameUrl({ leaseToken: "00000000-0000-4000-8000-000000000000", renderTimeMs: "1" }), headers: png, body: new Uint8Array(8), status: 409 });
  add({ name: "agentUploadFrame: a negative render time", row: frameUpload, url: frameUrl({ leaseToken: farm.ids.leaseToken, renderTimeMs: "-5" }), headers: png, body: new Uint8Array(8), status: 400 });
  add({ name: "agentUploadFrame: a frame the task does not have", row: frameUpload, url: frameUrl({ leaseToken: farm.ids.leaseToken, renderTimeMs: "1" }, "999"), headers: png, body: new Uint8Array(8), status: 400 });
  for (const progress of [-0.1, 1.5, "half"]) {
    add({ name: `agentHeartbeat: progress ${progress}`, row: row("agentHeartbeat"), body: json({ leaseToken: farm.ids.leaseToken, progress }), status: 400 });
  }
  add({ name: "agentFail: an error of 5000 characters", row: row("agentFail"), body: json({ leaseToken: farm.ids.leaseToken, error: "e".repeat(5000) }), status: 400 });
  add({ name: "agentHello: an empty Blender version", row: row("agentHello"), body: json({ blenderVersion: "", capabilities: { denoiser: false, threads: 2 } }), status: 400 });
  add({ name: "agentHello: threads 0", row: row("agentHello"), body: json({ blenderVersion: "3.4", capabilities: { denoiser: false, threads: 0 } }), status: 400 });
  add({ name: "agentClaim: a wait of 10 minutes", row: row("agentClaim"), body: json({ waitSeconds: 600 }), status: 400, message: /waitSeconds/ });
  add({ name: "agentHello: paused with a reason of 301 characters", row: row("agentHello"), body: json({ ...HELLO_BODY, status: "paused", pausedReason: "x".repeat(301) }), status: 400 });
  add({ name: "agentDownloadArchive: a Range past the end", row: row("agentDownloadArchive"), headers: { Range: "bytes=99999999-" }, status: 416 });
  add({ name: "agentInspection: facts missing", row: row("agentInspection"), body: json({ leaseToken: farm.ids.inspectLeaseToken }), status: 400 });

  // Methods an endpoint does not answer.
  for (const [method, url] of [["PUT", "/api/v1/projects"], ["DELETE", "/api/v1/me"], ["PATCH", "/api/v1/renders"], ["PUT", `/api/v1/renders/${farm.ids.renderId}/cancel`], ["DELETE", "/api/v1/auth/login"], ["POST", "/api/v1/health"]]) {
    add({ name: `${method} ${url}`, row: row("me"), method, url });
  }

  // The pages' forms.
  const page = (file: string, method = "POST") => ROUTES.find((candidate) => candidate.file === file && candidate.method === method)!;
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const formHeaders = { "Content-Type": "application/x-www-form-urlencoded" };
  for (const name of CONTROL_NAMES.slice(0, 4)) {
    add({ name: `projects page: create ${JSON.stringify(name.slice(0, 12))}`, row: page("_app.projects._index.tsx"), headers: formHeaders, body: form({ intent: "create", name }), status: 400 });
    add({ name: `workers page: create ${JSON.stringify(name.slice(0, 12))}`, row: page("_app.workers._index.tsx"), headers: formHeaders, body: form({ intent: "create", name }), status: 400 });
    add({ name: `me page: token ${JSON.stringify(name.slice(0, 12))}`, row: page("_app.me/route.tsx"), headers: formHeaders, body: form({ intent: "create-token", name }), status: 400 });
  }
  add({ name: "me page: an unknown intent", row: page("_app.me/route.tsx"), headers: formHeaders, body: form({ intent: "explode" }), status: 400 });
  add({ name: "me page: a short new password", row: page("_app.me/route.tsx"), headers: formHeaders, body: form({ intent: "change-password", currentPassword: "x", newPassword: "short" }), status: 400 });
  add({ name: "me page: an invitation to a 255-character address", row: page("_app.me/route.tsx"), headers: formHeaders, body: form({ intent: "create-invitation", email: `${"a".repeat(64)}@${"b".repeat(186)}.com` }), status: 400 });
  add({ name: "me page: end a session that is not there", row: page("_app.me/route.tsx"), headers: formHeaders, body: form({ intent: "end-session", sessionId: "999999" }), status: 404 });
  add({ name: "render page: an unknown change", row: page("_app.renders.$renderId.tsx"), headers: formHeaders, body: form({ intent: "explode" }), status: 400 });
  for (const frames of BAD_FRAMES.slice(0, 4)) {
    add({ name: `project page: render frames ${JSON.stringify(frames)}`, row: page("_app.projects.$projectId.tsx"), headers: formHeaders, body: form({ intent: "render", archiveId: farm.ids.archiveId, frames, format: "PNG", price: "0" }) });
  }
  add({ name: "a page that does not exist", row: page("_auth.$.tsx", "GET"), method: "GET", url: "/no/such/page/at/all", status: 404 });
  add({ name: "a page id that is not one", row: page("_app.projects.$projectId.tsx", "GET"), method: "GET", url: "/projects/abc", status: 404 });
  return all;
}

/** Every table's rows, as a digest; what a call touches by being made (last seen, last used) is left out. */
async function databaseDigest(): Promise<Record<string, string>> {
  const tables = await sequelize.query<{ name: string }>(
    "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    { type: QueryTypes.SELECT },
  );
  const digest: Record<string, string> = {};
  for (const { name: table } of tables) {
    const [row] = await sequelize.query<{ digest: string | null; count: string }>(
      `SELECT md5(string_agg((to_jsonb(t) - 'last_seen_at' - 'last_used_at')::text, '|' ORDER BY (to_jsonb(t) - 'last_seen_at' - 'last_used_at')::text)) AS digest,
              count(*) AS count FROM "${table}" t`,
      { type: QueryTypes.SELECT },
    );
    digest[table] = `${row.count}:${row.digest ?? ""}`;
  }
  return digest;
}

const STACK = /\n\s+at\s/;

describe("bad input", () => {
  test("at least 150 cases across every endpoint and page: each a 4xx, one log line at most, nothing stored", async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(150);
    const covered = new Set(all.map((item) => item.row.endpoint).filter(Boolean));
    expect(Object.keys(endpoints).filter((name) => !covered.has(name as keyof typeof endpoints)), "endpoints with no bad-input case").toEqual([]);

    const logs = [vi.spyOn(console, "error"), vi.spyOn(console, "warn"), vi.spyOn(console, "log")];
    let address = 0;
    for (const item of all) {
      const before = await databaseDigest();
      for (const spy of logs) spy.mockClear();
      const { row } = item;
      const headers: Record<string, string> = {
        ...farm.callers[CALLER[row.access]],
        "X-Forwarded-For": `198.19.${Math.floor(address / 250)}.${(address++ % 250) + 1}`,
        ...(item.body !== undefined && !item.headers?.["Content-Type"] ? { "Content-Type": "application/json" } : {}),
        ...item.headers,
      };
      const url = item.url ?? urlOf(row, farm.ids);
      const method = item.method ?? row.method;
      const response = await fetch(`${server.url}${url}`, { method, headers, body: item.body, redirect: "manual", signal: AbortSignal.timeout(15_000) }).catch(
        (error: unknown) => {
          throw new Error(`${item.name}: ${method} ${url.slice(0, 120)} failed: ${String(error)} (${String((error as Error).cause)})`);
        },
      );
      const text = await response.text();
      const where = `${item.name}: ${method} ${url.slice(0, 120)} → ${response.status} ${text.slice(0, 300)}`;
      if (item.status) expect(response.status, where).toBe(item.status);
      else {
        expect(response.status, where).toBeGreaterThanOrEqual(400);
        expect(response.status, where).toBeLessThan(500);
      }
      if (url.startsWith("/api/")) {
        const body = apiErrorSchema.safeParse(JSON.parse(text || "null"));
        expect(body.success, `${where}: not the API's error shape`).toBe(true);
        if (item.message) expect(body.data?.error.message, where).toMatch(item.message);
        expect(text, where).not.toMatch(STACK);
      }
      for (const spy of logs) {
        for (const call of spy.mock.calls) {
          for (const argument of call) {
            expect(argument instanceof Error, `${where}: an Error was logged`).toBe(false);
            expect(String(argument), `${where}: a stack trace was logged`).not.toMatch(STACK);
          }
        }
        expect(spy.mock.calls.length, `${where}: more than one log line`).toBeLessThanOrEqual(1);
      }
      expect(await databaseDigest(), `${where}: the database changed`).toEqual(before);
    }
    console.log(`Bad input: ${all.length} cases over ${covered.size} endpoints and the pages' forms.`);
    for (const spy of logs) spy.mockRestore();
  }, 600_000);
});
