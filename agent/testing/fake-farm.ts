import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ClaimedTask } from "../../contract";

// A server in the test process that speaks the agent protocol (docs/design.md §5) and writes down
// everything it hears, with times: the loop's tests drive a real AgentClient over real
// HTTP against it. `intercept` answers a request differently (a 503, a 409, a cut socket),
// or later (a promise: an upload held until the test lets it go).

export interface Heard {
  method: string;
  path: string;
  at: number;
  body: unknown;
  /** Raw bytes of a frame upload. */
  bytes?: Buffer;
  headers: http.IncomingHttpHeaders;
}

/** "cut": the socket closes before an answer; "cut mid-answer": after its headers and part of its body. */
export type Answer = { status: number; json?: unknown } | "cut" | "cut mid-answer";
export type Intercept = (request: Heard) => Answer | undefined | Promise<Answer | undefined>;

export const WORKER_TOKEN = "ccw_test-token";

export interface FakeFarm {
  url: string;
  heard: Heard[];
  /** Tasks handed out by claim, first first. */
  queue: ClaimedTask[];
  archives: Map<string, Buffer>;
  intercept: Intercept | null;
  leaseSeconds: number;
  /** What GET /agent/next-archives answers: the archives of the work the worker would get next. */
  next: ClaimedTask["archive"][];
  /** The next archive download sends this many bytes, then cuts the connection. */
  cutArchiveAt: number | null;
  /** The worker's last benchmark, as hello answers it (a benchmark sent is kept here). */
  benchmark: Record<string, unknown> | null;
  /** Requests to one route, e.g. `to("POST", /\/complete$/)`. */
  to(method: string, path: RegExp): Heard[];
  close(): Promise<void>;
}

export async function startFakeFarm(): Promise<FakeFarm> {
  const sockets = new Set<Socket>();
  const farm: FakeFarm = {
    url: "",
    heard: [],
    queue: [],
    archives: new Map(),
    intercept: null,
    next: [],
    leaseSeconds: 60,
    cutArchiveAt: null,
    benchmark: null,
    to: (method, path) => farm.heard.filter((request) => request.method === method && path.test(request.path)),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(request.url ?? "/", "http://farm");
    const isJson = request.headers["content-type"] === "application/json";
    const heard: Heard = {
      method: request.method ?? "GET",
      path: url.pathname + url.search,
      at: performance.now(),
      body: isJson ? JSON.parse(raw.toString("utf8")) : undefined,
      bytes: isJson ? undefined : raw,
      headers: request.headers,
    };
    farm.heard.push(heard);
    const answer = (await farm.intercept?.(heard)) ?? route(farm, heard, request, response);
    if (answer === "cut") {
      request.socket.destroy();
      return;
    }
    if (answer === "cut mid-answer") {
      response.writeHead(200, { "Content-Type": "application/json", "Content-Length": "100" });
      response.write('{"cancel": fal', () => setTimeout(() => request.socket.destroy(), 20));
      return;
    }
    if (answer === null) return; // answered by the route (archive bytes)
    if (answer.status === 204 || answer.json === undefined) {
      response.writeHead(answer.status).end();
      return;
    }
    response.writeHead(answer.status, { "Content-Type": "application/json" }).end(JSON.stringify(answer.json));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  farm.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return farm;
}

const problem = (status: number, code: string, message: string): Answer => ({ status, json: { error: { code, message } } });

function route(farm: FakeFarm, heard: Heard, request: http.IncomingMessage, response: http.ServerResponse): Answer | null {
  const { method, path } = heard;
  if (method === "GET" && path === "/api/v1/health") return { status: 200, json: { ok: true } };
  if (request.headers.authorization !== `Bearer ${WORKER_TOKEN}`) return problem(401, "unauthorized", "This worker token is not valid (the worker may have been removed). Create a worker with `cactus worker create NAME` and give its agent the new token.");
  if (method === "POST" && path === "/api/v1/agent/hello") {
    return {
      status: 200,
      json: { worker: { id: 7, name: "test-worker", enabled: true }, leaseSeconds: farm.leaseSeconds, benchmark: farm.benchmark },
    };
  }
  if (method === "POST" && path === "/api/v1/agent/benchmark") {
    const measuredAt = new Date().toISOString();
    farm.benchmark = { ...(heard.body as Record<string, unknown>), measuredAt };
    return { status: 201, json: { wupm: (heard.body as { wupm: number }).wupm, measuredAt } };
  }
  if (method === "POST" && path === "/api/v1/agent/claim") {
    const task = farm.queue.shift();
    return task ? { status: 200, json: { task } } : { status: 204 };
  }
  if (method === "GET" && path === "/api/v1/agent/next-archives") {
    return { status: 200, json: { archives: farm.next.map(({ id: _id, ...archive }) => archive) } };
  }
  const archive = /^\/api\/v1\/agent\/archives\/([0-9a-f]{64})$/.exec(path);
  if (method === "GET" && archive) {
    const bytes = farm.archives.get(archive[1]);
    if (!bytes) return problem(404, "not_found", "No such archive for this worker.");
    const range = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ""));
    const start = range ? Number(range[1]) : 0;
    response.writeHead(range ? 206 : 200, { "Content-Type": "application/octet-stream", "Content-Length": bytes.length - start });
    const cut = farm.cutArchiveAt;
    if (cut === null) response.end(bytes.subarray(start));
    else {
      farm.cutArchiveAt = null;
      response.write(bytes.subarray(start, cut), () => setTimeout(() => request.socket.destroy(), 20));
    }
    return null;
  }
  const frame = /^\/api\/v1\/agent\/tasks\/(\d+)\/frames\/(-?\d+)\?/.exec(path);
  if (method === "PUT" && frame) return { status: 201, json: { frame: Number(frame[2]), accepted: true, width: 64, height: 48 } };
  if (method === "POST" && /^\/api\/v1\/agent\/tasks\/\d+\/heartbeat$/.test(path)) {
    return { status: 200, json: { keepRunning: true, leaseExpiresAt: new Date(Date.now() + farm.leaseSeconds * 1000).toISOString() } };
  }
  if (method === "POST" && /^\/api\/v1\/agent\/tasks\/\d+\/(complete|fail|release|inspection)$/.test(path)) {
    return { status: 200, json: { ok: true } };
  }
  return problem(404, "not_found", `No route ${method} ${path}.`);
}

let nextTaskId = 1;

/** A leased render task of one archive, as the server's claim answers it. */
export function renderTask(archiveBytes: Buffer, options: Partial<ClaimedTask> = {}): ClaimedTask {
  const id = nextTaskId++;
  return {
    id,
    kind: "render",
    renderId: 1,
    frameStart: 1,
    frameEnd: 1,
    format: "PNG",
    leaseToken: randomUUID(),
    leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    archive: { id: 1, hash: sha256(archiveBytes), size: archiveBytes.length, kind: "blend", mainPath: null },
    expected: { width: 64, height: 48 },
    options: { scene: null, camera: null, viewLayer: null, resolutionPercentage: null, samples: null },
    ...options,
  };
}

export const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
