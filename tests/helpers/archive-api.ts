import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { expect } from "vitest";
import { apiErrorSchema, projectSchema, uploadedArchiveSchema, type ProjectDto, type UploadedArchiveDto } from "../../contract";
import { Archive } from "../../db/models";
import { blendBytes, zipBytes, type ZipEntrySpec } from "./fixtures";
import type { TestServer } from "./server";

// What the projects and archives API tests share: calls over real HTTP, and a look at what
// the server stored (rows and the files under its blob store).

export interface UploadOptions {
  filename?: string;
  main?: string;
  /** Defaults to the caller's token; null sends no Authorization header at all. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** One user's calls to one test server. */
export class ArchiveApi {
  private projectCount = 0;

  constructor(readonly server: TestServer, readonly token: string) {}

  call(urlPath: string, init: { method?: string; token?: string | null; body?: unknown } = {}): Promise<Response> {
    const token = init.token === undefined ? this.token : init.token;
    const headers: Record<string, string> = {};
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(`${this.server.url}/api/v1${urlPath}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  async createProject(name = `Project ${++this.projectCount}`, token = this.token): Promise<ProjectDto> {
    const response = await this.call("/projects", { token, body: { name } });
    expect(response.status).toBe(201);
    return projectSchema.parse(await response.json());
  }

  uploadUrl(projectId: number, { filename = "scene.blend", main }: UploadOptions = {}): string {
    const query = new URLSearchParams({ filename, ...(main === undefined ? {} : { main }) });
    return `${this.server.url}/api/v1/projects/${projectId}/archives?${query}`;
  }

  uploadHeaders({ token = this.token, headers = {} }: UploadOptions = {}): Record<string, string> {
    return {
      "Content-Type": "application/octet-stream",
      ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
      ...headers,
    };
  }

  /** POSTs the file as the raw body; a stream goes chunked, without a Content-Length. */
  upload(projectId: number, body: Buffer | ReadableStream<Uint8Array>, options: UploadOptions = {}): Promise<Response> {
    const streamed = body instanceof ReadableStream;
    return fetch(this.uploadUrl(projectId, options), {
      method: "POST",
      headers: this.uploadHeaders(options),
      body: streamed ? body : new Uint8Array(body),
      ...(streamed ? { duplex: "half" } : {}),
    } as RequestInit);
  }

  /** Every file under the blob store, relative to it: blobs and temporary uploads (.tmp/). */
  async blobFiles(): Promise<string[]> {
    const root = path.join(this.server.dataDir, "blobs");
    const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
      .sort();
  }

  async blobsOf(hash: string): Promise<string[]> {
    return (await this.blobFiles()).filter((name) => name.endsWith(hash));
  }

  async storedState(): Promise<{ archives: number; files: string[] }> {
    return { archives: await Archive.count(), files: await this.blobFiles() };
  }

  /** Sends a bad request and checks the refusal, and that no row and no file (blob or temporary) stayed. */
  async expectRefused(send: () => Promise<Response>, status: number, code: string, message: RegExp): Promise<void> {
    const before = await this.storedState();
    await expectApiError(await send(), status, code, message);
    expect(await this.storedState()).toEqual(before);
  }
}

/** A small .blend of `bodyBytes` after its header (so that different sizes are different files). */
export const blend = (bodyBytes: number, options: Parameters<typeof blendBytes>[0] = {}) => blendBytes({ bodyBytes, ...options });
export const zip = (...entries: ZipEntrySpec[]) => zipBytes(entries);
export const entry = (name: string, data: Buffer = Buffer.from("texture"), extra: Partial<ZipEntrySpec> = {}): ZipEntrySpec => ({
  name,
  data,
  ...extra,
});

/** The blob store's key of an archive's bytes. */
export const blobKey = (hash: string) => `archives/${hash.slice(0, 2)}/${hash}`;

export const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** The status (shown with the body when it differs), the error code and the message. */
export async function expectApiError(response: Response, status: number, code: string, message: RegExp): Promise<void> {
  const body: unknown = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  const { error } = apiErrorSchema.parse(body);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

export async function uploaded(response: Response, status = 201): Promise<UploadedArchiveDto> {
  const body: unknown = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return uploadedArchiveSchema.parse(body);
}

export async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A body that streams `total` bytes in 64 KiB chunks. */
export function streamOf(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, total - sent)).fill(0x41);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

/** A request over node:http on `agent`, so that a test can see which connection it used. */
export function sendOver(
  agent: http.Agent,
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: Buffer },
): Promise<{ status: number; text: string; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { agent, method: init.method, headers: init.headers });
    request.on("error", reject);
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString(), socket: request.socket }),
      );
    });
    request.end(init.body);
  });
}
