import http from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { apiErrorSchema } from "../../contract";
import { ApiToken, Invitation, Project } from "../../db/models";
import { crossSiteRefusal } from "../../server/origin-check";
import { startTestServer, type TestServer } from "../helpers/server";
import { signInWithCookie } from "../helpers/sessions";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

let server: TestServer;
let cookie: string;
let token: string;
let userId: number;
const EVIL = "http://evil.example";

beforeAll(async () => {
  server = await startTestServer();
  testDatabase(server);
  const created = await createUserWithToken(server, "victim");
  ({ token } = created);
  userId = created.user.id;
  cookie = await signInWithCookie(server.url, "victim", created.password);
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

const logged = vi.spyOn(console, "log");
const errors = vi.spyOn(console, "error");
afterEach(() => {
  logged.mockClear();
  errors.mockClear();
});

async function expectRefused(response: Response) {
  expect(response.status).toBe(403);
  const body = apiErrorSchema.parse(await response.json());
  expect(body.error.code).toBe("forbidden");
  expect(body.error.message).toMatch(/refused because .*API token/);
  // One line in the log, no stack trace.
  const lines = logged.mock.calls.map((call) => call.join(" ")).filter((line) => line.includes("cross-site"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\n\s+at /);
  expect(errors).not.toHaveBeenCalled();
}

describe("a write with the web app's cookie from another site", () => {
  test("a text/plain POST to the JSON API creates no project", async () => {
    const before = await Project.count({ where: { userId } });
    const response = await fetch(`${server.url}/api/v1/projects`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: EVIL, "Content-Type": "text/plain" },
      body: JSON.stringify({ name: "planted" }),
    });
    await expectRefused(response);
    expect(await Project.count({ where: { userId } })).toBe(before);
  });

  test("a form POST to a page's ?_data path creates no token", async () => {
    const before = await ApiToken.count({ where: { userId } });
    const response = await fetch(`${server.url}/me?_data=routes%2F_app.me`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: EVIL, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ intent: "create-token", name: "planted" }),
    });
    await expectRefused(response);
    expect(await ApiToken.count({ where: { userId } })).toBe(before);
  });

  test("what the browser says in Sec-Fetch-Site counts even without an Origin", async () => {
    const response = await fetch(`${server.url}/api/v1/projects`, {
      method: "POST",
      headers: { Cookie: cookie, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json" },
      body: JSON.stringify({ name: "planted" }),
    });
    await expectRefused(response);
    logged.mockClear();
    const sibling = await fetch(`${server.url}/logout`, { method: "POST", headers: { Cookie: cookie, "Sec-Fetch-Site": "same-site" } });
    await expectRefused(sibling);
  });

  test("a cookie write with neither Origin nor Sec-Fetch-Site, or from an opaque origin, is refused", async () => {
    await expectRefused(await fetch(`${server.url}/logout`, { method: "POST", headers: { Cookie: cookie } }));
    logged.mockClear();
    await expectRefused(await fetch(`${server.url}/logout`, { method: "POST", headers: { Cookie: cookie, Origin: "null" } }));
    expect((await fetch(`${server.url}/api/v1/me`, { headers: { Cookie: cookie } })).status).toBe(200);
  });

  test("a sign-in form posted from another site (login CSRF) is refused too", async () => {
    const response = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { Origin: EVIL, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "victim", password: "whatever" }),
    });
    await expectRefused(response);
  });
});

describe("what is not refused", () => {
  test("the web app's own writes: same origin", async () => {
    const response = await fetch(`${server.url}/api/v1/projects`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: server.url, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json" },
      body: JSON.stringify({ name: "mine" }),
    });
    expect(response.status).toBe(201);
  });

  test("a bearer token, whatever the Origin says: no browser adds one by itself", async () => {
    const response = await fetch(`${server.url}/api/v1/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, Origin: EVIL, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "from the cli" }),
    });
    expect(response.status).toBe(201);
  });

  test("the CLI and agents, which send no cookie and no Origin", async () => {
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "victim", password: "victim-password-123" }),
    });
    expect(response.status).toBe(201);
  });

  test("reads: a GET from anywhere is answered (it changes nothing; CORS keeps its answer from other sites)", async () => {
    expect((await fetch(`${server.url}/api/v1/me`, { headers: { Cookie: cookie, Origin: EVIL } })).status).toBe(200);
  });
});

describe("crossSiteRefusal, the rule itself", () => {
  const rule = { publicOrigin: "https://farm.example.org" };
  test.each([
    ["GET", {}, null],
    ["POST", { origin: "https://farm.example.org", cookie: "cactus_session=x" }, null],
    ["POST", { origin: "http://127.0.0.1:3000", host: "127.0.0.1:3000", cookie: "cactus_session=x" }, null],
    ["POST", { origin: "https://evil.example", host: "farm.example.org", cookie: "cactus_session=x" }, /came from https:\/\/evil\.example/],
    ["DELETE", { "sec-fetch-site": "same-origin", cookie: "cactus_session=x" }, null],
    ["PUT", { "sec-fetch-site": "cross-site" }, /cross-site page/],
    ["PATCH", { origin: "not a url", host: "farm" }, /is not an origin/],
    ["POST", { cookie: "other=1" }, null],
    ["POST", { cookie: "a=1; cactus_session=x" }, /neither Origin nor Sec-Fetch-Site/],
    ["POST", { authorization: "Bearer cct_x", origin: "https://evil.example", cookie: "cactus_session=x" }, null],
  ] as const)("%s %j", (method, headers, expected) => {
    const why = crossSiteRefusal(method, headers, rule);
    if (expected === null) expect(why).toBeNull();
    else expect(why).toMatch(expected);
  });
});

describe("security headers", () => {
  test("a page: a CSP with this answer's nonce on every inline script, no framing, nosniff, a referrer policy", async () => {
    const response = await fetch(`${server.url}/login`);
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toMatch(/script-src 'self' 'nonce-/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).toMatch(/worker-src 'self'/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("same-origin");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) {
      if (!/\bsrc=/.test(attributes)) expect(attributes).toContain(`nonce="${nonce}"`);
    }
    // A fresh nonce each time.
    const again = (await fetch(`${server.url}/login`)).headers.get("Content-Security-Policy");
    expect(again).not.toBe(csp);
  });

  test("the API and static files: nosniff everywhere; JSON gets a policy that loads nothing", async () => {
    const api = await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(api.headers.get("Content-Security-Policy")).toMatch(/default-src 'none'; frame-ancestors 'none'/);
    expect(api.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const icon = await fetch(`${server.url}/icons/icon.svg`);
    expect(icon.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });
});

describe("links the server hands out", () => {
  function createInvitation(host: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        `${server.url}/api/v1/invitations`,
        { method: "POST", headers: { Host: host, Authorization: `Bearer ${token}`, "Content-Type": "application/json" } },
        (response) => {
          let body = "";
          response.on("data", (chunk) => (body += chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on("error", reject);
      request.end(JSON.stringify({ email: "friend@example.com" }));
    });
  }

  test("without CACTUS_PUBLIC_URL, a request for a foreign Host gets no link and stores no invitation", async () => {
    const before = await Invitation.count();
    const foreign = await createInvitation("evil.example");
    expect(foreign.status).toBe(400);
    expect(apiErrorSchema.parse(JSON.parse(foreign.body)).error.message).toMatch(/host "evil\.example".*CACTUS_PUBLIC_URL/);
    expect(await Invitation.count()).toBe(before);

    const own = await createInvitation(new URL(server.url).host);
    expect(own.status).toBe(201);
    expect((JSON.parse(own.body) as { url: string }).url).toMatch(new RegExp(`^${server.url}/signup\\?code=cci_`));
    const local = await createInvitation(`localhost:${server.port}`);
    expect((JSON.parse(local.body) as { url: string }).url).toMatch(new RegExp(`^http://localhost:${server.port}/signup`));
  });
});
