import { afterAll, beforeAll, expect, test } from "vitest";
import { apiErrorSchema, endpoints } from "../../contract";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

test("the OpenAPI document is served without a token and lists every endpoint", async () => {
  const response = await fetch(`${server.url}/api/v1/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const document = (await response.json()) as { openapi: string; servers: { url: string }[]; paths: Record<string, object> };
  expect(document.openapi).toBe("3.1.0");
  expect(document.servers).toEqual([{ url: "/api/v1" }]);
  for (const endpoint of Object.values(endpoints)) {
    expect(document.paths[endpoint.path], endpoint.path).toHaveProperty(endpoint.method);
  }
});

test("every endpoint of the catalogue has its route: none falls through to the unknown-path 404", async () => {
  const sample = (param: string) => (param === "hash" ? "a".repeat(64) : "1");
  for (const endpoint of Object.values(endpoints)) {
    const path = endpoint.path.replace(/\{([^}]+)\}/g, (_, param: string) => sample(param));
    const response = await fetch(`${server.url}/api/v1${path}`, { method: endpoint.method.toUpperCase() });
    const text = await response.text();
    expect(text, `${endpoint.method} ${path}`).not.toMatch(/No API endpoint/);
    // Without a token, anything that asks for one says so.
    if (endpoint.auth !== "none") expect(response.status, `${endpoint.method} ${path}: ${text}`).toBe(401);
  }
  const document = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
    components: { securitySchemes: Record<string, { scheme: string }> };
  };
  expect(Object.keys(document.components.securitySchemes).sort()).toEqual(["bearerAuth", "workerAuth"]);
});

test.each([
  ["GET", "/api/v1/nothing-here"],
  ["POST", "/api/v1/projects/1/nothing"],
  ["DELETE", "/api/v1/x/y/z"],
])("%s %s, an unknown API path, is a 404 in the API's error shape", async (method, path) => {
  const response = await fetch(`${server.url}${path}`, { method });
  expect(response.status).toBe(404);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = apiErrorSchema.parse(await response.json());
  expect(body.error).toEqual({
    code: "not_found",
    message: `No API endpoint ${method} ${path}; see /api/v1/openapi.json.`,
  });
});

test("the public URL, when set, is the document's server", async () => {
  const other = await startTestServer({ CACTUS_PUBLIC_URL: "https://farm.example.org/" });
  try {
    const document = (await (await fetch(`${other.url}/api/v1/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(document.servers).toEqual([{ url: "https://farm.example.org/api/v1" }]);
  } finally {
    await other.close();
  }
});
