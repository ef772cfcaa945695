import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { apiErrorSchema } from "../../contract";
import { createTestDatabase } from "../helpers/db";
import { startTestServer, type TestServer } from "../helpers/server";
import { signInWithCookie } from "../helpers/sessions";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// A real stall: the server reaches Postgres through a TCP proxy that stops passing bytes
// (and new connections) when paused, as a Postgres stuck on a full disk or frozen by the
// kernel would. Nothing is refused or closed: only timeouts can tell.

let server: TestServer;
let proxy: TcpProxy;
let token: string;
let cookie: string;
const errors = vi.spyOn(console, "error");

beforeAll(async () => {
  const direct = new URL(await createTestDatabase());
  proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
  const proxied = new URL(direct);
  proxied.port = String(proxy.port);
  server = await startTestServer({ DATABASE_URL: proxied.toString(), CACTUS_DB_STATEMENT_TIMEOUT_MS: "2000", CACTUS_DB_CONNECT_TIMEOUT_MS: "1000" });
  // The test's own connection goes around the proxy: it sees what was stored.
  testDatabase({ ...server, databaseUrl: direct.toString() });
  const user = await createUserWithToken(server, "stalled");
  token = user.token;
  cookie = await signInWithCookie(server.url, "stalled", user.password);
});
afterAll(async () => {
  proxy.resume();
  await closeTestDatabase();
  await server.close();
  await proxy.close();
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...init.headers } });

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
  const body = apiErrorSchema.parse(await response.json());
  expect(body.error.code).toBe("unavailable");
  expect(body.error.message).toMatch(/database is not answering.*Try again in \d+ seconds/);
}

describe("Postgres stalls under a running server", () => {
  test("health, the API and the pages say so fast, and all is back when it answers again", async () => {
    expect((await api("/projects", { method: "POST", body: JSON.stringify({ name: "before" }) })).status).toBe(201);
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);

    proxy.pause();
    // A request already on its way when the stall starts: its query times out (statement + grace).
    const inFlight = timed(() => api("/projects"));

    // Health asks the database itself and answers within a second.
    const health = await timed(() => fetch(`${server.url}/api/v1/health`));
    expect(health.ms).toBeLessThan(1500);
    await expectUnavailable(health.value);

    const first = await inFlight;
    expect(first.ms).toBeLessThan(8000);
    await expectUnavailable(first.value);

    // Once the server knows, every request is a 503 at once.
    await vi.waitFor(async () => expect((await api("/projects")).status).toBe(503), { timeout: 10_000, interval: 200 });
    const quick = await timed(() => api("/projects", { method: "POST", body: JSON.stringify({ name: "during" }) }));
    expect(quick.ms).toBeLessThan(1000);
    await expectUnavailable(quick.value);

    // The PWA: a page load is a page that says what is going on and tries again by itself.
    const page = await fetch(`${server.url}/projects`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(503);
    expect(page.headers.get("Retry-After")).not.toBeNull();
    const html = await page.text();
    expect(html).toMatch(/Cactus is waiting for its database/);
    expect(html).toMatch(/http-equiv="refresh"/);
    // A navigation inside the app: an answer its error page shows.
    const data = await fetch(`${server.url}/projects?_data=routes%2F_app.projects._index`, { headers: { Cookie: cookie } });
    expect(data.status).toBe(503);
    expect(data.headers.get("X-Remix-Catch")).toBe("yes");
    expect(await data.json()).toMatch(/database is not answering/);

    proxy.resume();
    await vi.waitFor(async () => expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200), { timeout: 15_000, interval: 250 });
    await vi.waitFor(async () => expect((await api("/projects")).status).toBe(200), { timeout: 15_000, interval: 250 });
    const { projects } = (await (await api("/projects")).json()) as { projects: { name: string }[] };
    // What was stored before is there; the write refused during the stall is not.
    expect(projects.map((project) => project.name)).toEqual(["before"]);
    expect((await fetch(`${server.url}/projects`, { headers: { Cookie: cookie } })).status).toBe(200);

    // The log says what happened in lines, not stack traces.
    for (const call of errors.mock.calls) expect(call.join(" ")).not.toMatch(/\n\s+at /);
  }, 90_000);
});
