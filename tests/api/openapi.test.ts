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
