import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

test("the server answers over HTTP on its own database", async () => {
  const response = await fetch(`${server.url}/api/v1/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ ok: true });
});
