import { expect } from "vitest";
import { claimResponseSchema, type ClaimedTask } from "../../contract";
import { hashSecret, newSecret } from "../../app/lib/secrets.server";
import { Worker } from "../../db/models";
import { encodePng } from "./png";
import { defaultSceneFacts } from "./scenes";
import type { TestServer } from "./server";
import { testDatabase } from "./users";

// What the agent API tests share: a worker with a known token, calls made as its agent
// would make them (over real HTTP, with fetch), and images built byte by byte.

/** A worker straight in the database, with the token its agent would be given. */
export async function createWorkerWithToken(
  server: TestServer,
  userId: number,
  { name = `worker-${Math.random().toString(36).slice(2, 8)}`, enabled = true }: { name?: string; enabled?: boolean } = {},
): Promise<{ worker: Worker; token: string }> {
  testDatabase(server);
  const token = newSecret("ccw");
  const worker = await Worker.create({ userId, name, enabled, tokenHash: hashSecret(token) });
  return { worker, token };
}

export interface FrameOptions {
  leaseToken: string;
  renderTimeMs?: number;
  contentType?: string;
}

/** One agent's calls to one test server. */
export class AgentApi {
  constructor(
    readonly server: TestServer,
    readonly token: string | null,
  ) {}

  call(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.server.url}/api/v1${urlPath}`, {
      method,
      headers: {
        ...(this.token === null ? {} : { Authorization: `Bearer ${this.token}` }),
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  hello(body: object = HELLO): Promise<Response> {
    return this.call("POST", "/agent/hello", body);
  }

  /** A claim that must lease a task. */
  async claim(): Promise<ClaimedTask> {
    const response = await this.call("POST", "/agent/claim", {});
    const body: unknown = await response.json();
    expect({ status: response.status, body }).toMatchObject({ status: 200 });
    return claimResponseSchema.parse(body).task;
  }

  /** A claim that must find nothing. */
  async claimNothing(): Promise<void> {
    const response = await this.call("POST", "/agent/claim", {});
    expect(response.status, await response.text()).toBe(204);
  }

  task(taskId: number, verb: "heartbeat" | "complete" | "fail" | "release" | "inspection", body: object): Promise<Response> {
    return this.call("POST", `/agent/tasks/${taskId}/${verb}`, body);
  }

  uploadFrame(taskId: number, frame: number | string, image: Uint8Array, { leaseToken, renderTimeMs = 1500, contentType = "image/png" }: FrameOptions) {
    const query = new URLSearchParams({ leaseToken, renderTimeMs: String(renderTimeMs) });
    return fetch(`${this.server.url}/api/v1/agent/tasks/${taskId}/frames/${frame}?${query}`, {
      method: "PUT",
      headers: { ...(this.token === null ? {} : { Authorization: `Bearer ${this.token}` }), "Content-Type": contentType },
      body: new Uint8Array(image),
    });
  }

  downloadArchive(hash: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.call("GET", `/agent/archives/${hash}`, undefined, headers);
  }
}

/** Scene facts as agent/scripts/inspect.py reports them for tests/helpers/scenes.ts's default scene. */
export const SCENE_FACTS = defaultSceneFacts();

export const HELLO = {
  blenderVersion: "3.4.1",
  capabilities: { denoiser: false, threads: 4, agentVersion: "0.1.0", sandbox: "bwrap" as const },
};

/** A JSON answer with this status (shown with the body when it differs). */
export async function expectJson<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  const body: unknown = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return body as T;
}

/** A real PNG (8-bit RGB, every row unfiltered) of a gradient: any decoder reads it. */
export function pngBytes(width: number, height: number, shade = 0): Buffer {
  const rowBytes = width * 3 + 1;
  const pixels = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      pixels.set([(x * 4 + shade) & 0xff, (y * 5) & 0xff, 128], y * rowBytes + 1 + x * 3);
    }
  }
  return encodePng(width, height, 2, pixels);
}

/** A PNG whose header is right but whose pixel data is garbage: only decoding it shows. */
export function damagedPngBytes(width: number, height: number): Buffer {
  const png = pngBytes(width, height);
  const idat = png.indexOf("IDAT", 0, "latin1");
  const damaged = Buffer.from(png);
  for (let index = idat + 4; index < idat + 40; index += 1) damaged[index] ^= 0x5a;
  return damaged;
}

/**
 * The header of an OpenEXR file (magic, version, attributes with the data window); the
 * server checks an EXR by its header only, as the PNG of a frame by its header and a decode.
 */
export function exrHeaderBytes(width: number, height: number): Buffer {
  const attribute = (name: string, type: string, value: Buffer) => {
    const size = Buffer.alloc(4);
    size.writeInt32LE(value.length);
    return Buffer.concat([Buffer.from(`${name}\0${type}\0`, "latin1"), size, value]);
  };
  const box = Buffer.alloc(16);
  [0, 0, width - 1, height - 1].forEach((value, index) => box.writeInt32LE(value, index * 4));
  return Buffer.concat([
    Buffer.from([0x76, 0x2f, 0x31, 0x01, 0x02, 0x00, 0x00, 0x00]),
    attribute("compression", "compression", Buffer.from([3])),
    attribute("dataWindow", "box2i", box),
    attribute("displayWindow", "box2i", box),
    Buffer.from([0]),
    Buffer.alloc(64),
  ]);
}
