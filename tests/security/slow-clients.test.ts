import net from "node:net";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// Raw sockets, so a test can be as slow as an attacker: headers a byte at a time, a body
// that stops, connections held open and idle.

let server: TestServer;
let token: string;
const CAP = 5;

beforeAll(async () => {
  server = await startTestServer({
    CACTUS_HEADERS_TIMEOUT_SECONDS: "2",
    CACTUS_BODY_IDLE_SECONDS: "2",
    CACTUS_MAX_ANONYMOUS_CONNECTIONS: String(CAP),
  });
  testDatabase(server);
  ({ token } = await createUserWithToken(server, "patient"));
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

interface RawConnection {
  socket: net.Socket;
  received(): string;
  closed: Promise<number>;
}

async function connect(): Promise<RawConnection> {
  const socket = net.connect(server.port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let text = "";
  socket.on("data", (chunk) => (text += chunk.toString("latin1")));
  socket.on("error", () => undefined);
  const opened = performance.now();
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now() - opened)));
  return { socket, received: () => text, closed };
}

describe("slow clients", () => {
  test("headers that never finish: 408 and the connection closed after the headers timeout", async () => {
    const connection = await connect();
    connection.socket.write("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n");
    const interval = setInterval(() => connection.socket.write("X-Slow: 1\r\n"), 500);
    const closedAfter = await connection.closed;
    clearInterval(interval);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfter).toBeGreaterThan(1500);
    expect(closedAfter).toBeLessThan(8000);
  });

  test("a body that stops coming: 408 in the error shape, the connection closed, nothing stored", async () => {
    const log = vi.spyOn(console, "log");
    const connection = await connect();
    const body = JSON.stringify({ name: "never finished" });
    connection.socket.write(
      `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    const closedAfter = await connection.closed;
    expect(closedAfter).toBeGreaterThan(1500);
    expect(closedAfter).toBeLessThan(8000);
    const answer = connection.received();
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toMatch(/"code":"request_timeout"/);
    expect(answer).toMatch(/nothing came for 2 s/);
    expect(log.mock.calls.some((call) => String(call[0]).includes("the body stalled"))).toBe(true);
    const projects = (await (await fetch(`${server.url}/api/v1/projects`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
      projects: unknown[];
    };
    expect(projects.projects).toEqual([]);
  });

  test("a slow body that keeps moving is not cut off", async () => {
    const connection = await connect();
    const body = JSON.stringify({ name: "slow but steady" });
    connection.socket.write(
      `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nConnection: close\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    for (const part of body.match(/.{1,6}/g)!) {
      connection.socket.write(part);
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
    await connection.closed;
    expect(connection.received()).toMatch(/^HTTP\/1\.1 201/);
  }, 30_000);

  test(`at most ${CAP} connections from one address before any signed in; signed-in ones do not count`, async () => {
    // One that proved who it is, kept open (keep-alive).
    const signedIn = await connect();
    signedIn.socket.write(`GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await vi.waitFor(() => expect(signedIn.received()).toMatch(/^HTTP\/1\.1 200/));

    const idle = await Promise.all(Array.from({ length: CAP }, connect));
    const refused = await connect();
    await refused.closed;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 429/);
    expect(refused.received()).toMatch(/"code":"rate_limited".*Too many connections from your address/);

    // A request with a made-up token does not free its connection: it is still anonymous.
    const forged = idle[0];
    forged.socket.write("GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer cct_made-up\r\n\r\n");
    await vi.waitFor(() => expect(forged.received()).toMatch(/^HTTP\/1\.1 401/));
    const stillRefused = await connect();
    await stillRefused.closed;
    expect(stillRefused.received()).toMatch(/^HTTP\/1\.1 429/);

    // A real token frees it, and the signed-in connection kept working all along.
    const proven = idle[1];
    proven.socket.write(`GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await vi.waitFor(() => expect(proven.received()).toMatch(/^HTTP\/1\.1 200/));
    const admitted = await connect();
    admitted.socket.write("GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await admitted.closed;
    expect(admitted.received()).toMatch(/^HTTP\/1\.1 200/);

    signedIn.socket.write(`GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await vi.waitFor(() => expect(signedIn.received().match(/HTTP\/1\.1 200/g)).toHaveLength(2));

    for (const connection of [signedIn, ...idle]) connection.socket.destroy();
    // Closed connections leave the count: a new one is let in.
    await vi.waitFor(async () => expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200));
  }, 30_000);
});
