import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { endpoints } from "../../contract";
import { ApiToken, Project, Render, Task, Worker } from "../../db/models";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase } from "../helpers/users";
import { buildOwnerFarm, MARKER, PRINCIPALS, type OwnerFarm, type Principal } from "./owner-farm";
import { LAYOUT_FILES, ROUTES, routeFileOf, urlOf, type RouteRow } from "./route-table";

// Every route × every kind of caller that is not the owner: anonymous, another user by
// API token and by browser session, another user's worker, a revoked token, a disabled
// worker, each naming the owner's things. Built from the route table; a route without a
// row there fails the first tests below.

let server: TestServer;
let farm: OwnerFarm;

beforeAll(async () => {
  // Each call from an address of its own: the sign-in and sign-up rate limits are not what is tested here.
  server = await startTestServer({ CACTUS_TRUST_PROXY: "1" });
  farm = await buildOwnerFarm(server);
}, 60_000);
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

const ROUTES_DIR = path.resolve(import.meta.dirname, "../../app/routes");
const HOW_TO = "add a row to tests/security/route-table.ts saying who may call it (access) and what another user gets (others)";

describe("the route table", () => {
  test("has a row for every route file under app/routes", async () => {
    const entries = await fs.readdir(ROUTES_DIR, { withFileTypes: true });
    const files = entries.map((entry) => routeFileOf({ name: entry.name, isDirectory: entry.isDirectory() }));
    const covered = new Set(ROUTES.map((row) => row.file));
    const missing = files.filter((file) => !LAYOUT_FILES.includes(file) && !covered.has(file));
    expect(missing, `app/routes has routes with no row: ${HOW_TO}`).toEqual([]);
    const stale = [...covered].filter((file) => !files.includes(file));
    expect(stale, "rows of route files that do not exist any more").toEqual([]);
  });

  test("has a row for every endpoint of the API catalogue, at its path and method", () => {
    const rows = new Map(ROUTES.filter((row) => row.endpoint).map((row) => [row.endpoint, row]));
    const missing = Object.keys(endpoints).filter((name) => !rows.has(name as keyof typeof endpoints));
    expect(missing, `endpoints of contract/endpoints.ts with no row: ${HOW_TO}`).toEqual([]);
  });
});

interface Cell {
  row: RouteRow;
  principal: Principal;
  status: number;
  body: string;
  location: string | null;
}

async function call(row: RouteRow, principal: Principal): Promise<Cell> {
  const headers: Record<string, string> = { ...farm.callers[principal], "X-Forwarded-For": nextAddress() };
  let body: BodyInit | undefined;
  if (row.bytes) {
    headers["Content-Type"] = row.bytes.type;
    body = new Uint8Array(row.bytes.data());
  } else if (row.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(row.form(farm.ids));
  } else if (row.body) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(row.body(farm.ids));
  }
  const response = await fetch(`${server.url}${urlOf(row, farm.ids)}`, {
    method: row.method,
    headers,
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(15_000),
  });
  const text = response.headers.get("Content-Type")?.includes("event-stream") ? await streamStart(response) : await response.text();
  return { row, principal, status: response.status, body: text, location: response.headers.get("Location") };
}

/** What a stream sends in its first moments (a stream sends the state it follows at once), then it is closed. */
async function streamStart(response: Response, ms = 1500): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const stop = setTimeout(() => void reader.cancel(), ms);
  let text = "";
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
  } finally {
    clearTimeout(stop);
  }
  return text || "(a stream that sent nothing yet)";
}

let addresses = 0;
const nextAddress = () => `198.18.${Math.floor(addresses / 250)}.${(addresses++ % 250) + 1}`;

const CONTROL: Record<RouteRow["access"], Principal> = { public: "owner", user: "owner", worker: "ownerWorker", page: "ownerCookie" };
const INTRUDERS = PRINCIPALS.filter((principal) => !principal.startsWith("owner"));

/** What a caller who is not the owner must get from a row. */
function check(cell: Cell): void {
  const { row, principal, status, body } = cell;
  const where = `${principal} ${row.method} ${row.path} → ${status} ${body.slice(0, 200)}`;
  expect(status, where).toBeLessThan(500);
  expect(body, `${where}: the owner's things showed`).not.toContain(MARKER);
  const signIn = () => {
    expect(status, where).toBe(302);
    expect(cell.location, where).toMatch(/^\/login/);
  };
  const isOther = principal === "otherToken" || principal === "otherCookie";
  switch (row.access) {
    case "public":
      // Whoever asks, the same answer as the owner's; a signed-in browser may be sent on into the app.
      if (principal === "otherCookie" && status === 302 && cell.location?.startsWith("/projects")) return;
      if (row.control !== null) expect(status, where).toBe(row.control);
      return;
    case "user":
      if (!isOther) return void expect(status, where).toBe(401);
      break;
    case "worker":
      if (principal === "disabledWorker") return void expect(status, where).toBe(403);
      if (principal !== "otherWorker") return void expect(status, where).toBe(401);
      break;
    case "page":
      if (principal !== "otherCookie") return signIn();
      break;
  }
  if (row.others === "not-found") expect(status, where).toBe(404);
  else if (row.others === "stale") expect(status, where).toBe(409);
  else expect(status, where).not.toBe(401);
}

// Signing out (the API's logout, the page's) ends the caller's token or session: those go last.
const signsOut = (row: RouteRow) => row.endpoint === "logout" || row.file === "logout.tsx";
const ORDERED = [...ROUTES.filter((row) => !signsOut(row)), ...ROUTES.filter(signsOut)];

describe("the authorization matrix", () => {
  test(`every route × ${INTRUDERS.join(", ")}; and the owner's own call as the control`, async () => {
    let cells = 0;
    for (const row of ORDERED) {
      if (row.control !== null) {
        const control = await call(row, CONTROL[row.access]);
        expect(control.status, `${CONTROL[row.access]} ${row.method} ${row.path} (the control) → ${control.body.slice(0, 300)}`).toBe(row.control);
        if (row.controlShowsOwner) expect(control.body, `the owner's ${row.method} ${row.path}`).toContain(MARKER);
        cells++;
      }
      for (const principal of INTRUDERS) {
        check(await call(row, principal));
        cells++;
      }
    }
    console.log(`Authorization matrix: ${ORDERED.length} routes, ${cells} cells checked.`);
    expect(cells).toBeGreaterThanOrEqual(ROUTES.length * INTRUDERS.length);

    // Nothing of the owner's was changed by anyone else.
    const { ids } = farm;
    expect((await Project.findByPk(Number(ids.projectId)))?.name).toBe(`${MARKER} project`);
    expect((await Render.findByPk(Number(ids.renderId)))?.status).toMatch(/queued|rendering/);
    expect((await Worker.findByPk(Number(ids.workerId)))?.name).toBe(`${MARKER}-worker`);
    expect((await ApiToken.findByPk(Number(ids.tokenId)))?.revokedAt).toBeNull();
    expect((await Task.findByPk(Number(ids.taskId)))?.leaseToken).toBe(ids.leaseToken);
  }, 300_000);
});
