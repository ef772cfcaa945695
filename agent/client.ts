import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import { Readable } from "node:stream";
import type { z } from "zod";
import { IMAGE_CONTENT_TYPES, type ImageFormat } from "../domain/image";
import {
  API_PREFIX,
  apiErrorSchema,
  benchmarkResponseSchema,
  claimResponseSchema,
  frameResultSchema,
  heartbeatResponseSchema,
  helloResponseSchema,
  type BenchmarkRequest,
  nextArchivesResponseSchema,
  type ClaimedTask,
  type HeartbeatResponse,
  type SceneFacts,
  type completeRequestSchema,
  type failRequestSchema,
  type heartbeatRequestSchema,
  type helloRequestSchema,
} from "../contract";
import {
  ArchiveCorrupt,
  FrameRejected,
  ServerRefused,
  ServerUnreachable,
  StaleLease,
  WorkerDisabled,
  WorkerUnauthorized,
} from "./errors";
import { delay, doubled, jittered } from "./timing";

export { ArchiveCorrupt, FrameRejected, ServerRefused, ServerUnreachable, StaleLease, WorkerDisabled, WorkerUnauthorized };

// The agent's typed edge of the protocol (docs/design.md §5). Network errors and
// 5xx answers are retried with capped exponential backoff and jitter, so a server that
// restarts while Blender renders is ridden out; a 409 is never retried: the lease is
// gone and the work with it.

/** A failure worth another try: no answer, a cut connection, or a 5xx / 429. */
class Transient extends Error {}

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** Give up (ServerUnreachable) once the next wait would pass this much time in retries. */
  giveUpAfterMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { initialMs: 500, maxMs: 30_000, giveUpAfterMs: 5 * 60_000 };

export interface AgentClientOptions {
  server: string;
  token: string;
  retry?: Partial<RetryPolicy>;
  /** Per request, for JSON calls and uploads; a download only times out when idle (undici's). */
  timeoutMs?: number;
  random?: () => number;
  onRetry?: (what: string, error: Error, waitMs: number) => void;
}

export interface CallOptions {
  /** Stops the request and its retries. */
  signal?: AbortSignal;
}

export type HelloRequest = z.input<typeof helloRequestSchema>;
export type HelloResponse = z.infer<typeof helloResponseSchema>;
export type HeartbeatRequest = z.input<typeof heartbeatRequestSchema>;
export type FrameResult = z.infer<typeof frameResultSchema>;
export type NextArchive = z.infer<typeof nextArchivesResponseSchema>["archives"][number];

interface Send {
  what: string;
  method: string;
  path: string;
  json?: unknown;
  body?: () => { stream: ReadableStream; length: number } | Promise<{ stream: ReadableStream; length: number }>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** When false, `signal` only cuts the waits between tries, never a request in flight. */
  abortInFlight?: boolean;
  timeoutMs?: number | null;
}

export class AgentClient {
  readonly server: string;
  private readonly token: string;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly onRetry?: AgentClientOptions["onRetry"];

  constructor(options: AgentClientOptions) {
    this.server = options.server.replace(/\/+$/, "");
    this.token = options.token;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
  }

  /** GET /api/v1/health, unauthenticated and tried once: for `cactus-agent doctor`. */
  async health(options: CallOptions = {}): Promise<void> {
    const response = await this.fetchOnce({ what: "GET /health", method: "GET", path: "/health", ...options }, false);
    await this.check(response, "GET /health");
  }

  async hello(body: HelloRequest, options: CallOptions = {}): Promise<HelloResponse> {
    return this.json(helloResponseSchema, { what: "hello", method: "POST", path: "/agent/hello", json: body, ...options });
  }

  /** Records what this worker's benchmark measured. */
  async benchmark(body: BenchmarkRequest, options: CallOptions = {}): Promise<z.infer<typeof benchmarkResponseSchema>> {
    return this.json(benchmarkResponseSchema, { what: "benchmark", method: "POST", path: "/agent/benchmark", json: body, ...options });
  }

  /**
   * The next task for this worker, or null (204). With `waitSeconds` the server holds the
   * claim until a task appears or that time passes (a long poll); `signal` then cuts it,
   * and the server puts back a task it leased as the agent hung up. A claim that does not
   * wait is let finish even when `signal` aborts: its answer is a moment away.
   */
  async claim(options: CallOptions & { waitSeconds?: number } = {}): Promise<ClaimedTask | null> {
    const { waitSeconds = 0, ...call } = options;
    const request: Send = {
      what: "claim",
      method: "POST",
      path: "/agent/claim",
      json: waitSeconds > 0 ? { waitSeconds } : {},
      ...call,
      abortInFlight: waitSeconds > 0,
      // The server answers by then at the latest; the rest is for a busy server's reply.
      ...(waitSeconds > 0 ? { timeoutMs: waitSeconds * 1000 + this.timeoutMs } : {}),
    };
    const { status, text } = await this.sendForText(request);
    if (status === 204) return null;
    return this.parse(status, text, claimResponseSchema, "claim").task;
  }

  /** The archives of the work this worker is likely to get next (agent/prefetch.ts fetches them while it renders). */
  async nextArchives(options: CallOptions = {}): Promise<NextArchive[]> {
    const answer = await this.json(nextArchivesResponseSchema, { what: "look ahead", method: "GET", path: "/agent/next-archives", ...options });
    return answer.archives;
  }

  async heartbeat(taskId: number, body: HeartbeatRequest, options: CallOptions = {}): Promise<HeartbeatResponse> {
    const path = `/agent/tasks/${taskId}/heartbeat`;
    return this.json(heartbeatResponseSchema, { what: `heartbeat of task ${taskId}`, method: "POST", path, json: body, ...options });
  }

  /** Streams the image file as the body; a retry opens the file again. */
  async uploadFrame(
    taskId: number,
    frame: number,
    upload: { file: string; format: ImageFormat; leaseToken: string; renderTimeMs: number },
    options: CallOptions = {},
  ): Promise<FrameResult> {
    const query = new URLSearchParams({ leaseToken: upload.leaseToken, renderTimeMs: String(Math.round(upload.renderTimeMs)) });
    const request: Send = {
      what: `upload of frame ${frame} of task ${taskId}`,
      method: "PUT",
      path: `/agent/tasks/${taskId}/frames/${frame}?${query}`,
      headers: { "Content-Type": IMAGE_CONTENT_TYPES[upload.format] },
      body: async () => {
        const { size } = await fs.stat(upload.file);
        return { stream: Readable.toWeb(createReadStream(upload.file)) as ReadableStream, length: size };
      },
      ...options,
    };
    try {
      return await this.json(frameResultSchema, request);
    } catch (error) {
      if (error instanceof ServerRefused && error.status === 422) throw new FrameRejected(422, error.message);
      throw error;
    }
  }

  async complete(taskId: number, body: z.input<typeof completeRequestSchema>, options: CallOptions = {}): Promise<void> {
    await this.post(taskId, "complete", body, options);
  }

  async fail(taskId: number, body: z.input<typeof failRequestSchema>, options: CallOptions = {}): Promise<void> {
    await this.post(taskId, "fail", body, options);
  }

  async release(taskId: number, leaseToken: string, options: CallOptions = {}): Promise<void> {
    await this.post(taskId, "release", { leaseToken }, options);
  }

  async inspection(taskId: number, body: { leaseToken: string; facts: SceneFacts }, options: CallOptions = {}): Promise<void> {
    await this.post(taskId, "inspection", body, options);
  }

  /**
   * Streams the archive into `file`, hashing on the way; a cut connection resumes with a
   * Range request where it stopped. Bytes that do not hash to `hash` (or are not `size`
   * long) are deleted and refused with ArchiveCorrupt.
   */
  async downloadArchive(archive: { hash: string; size: number }, file: string, options: CallOptions = {}): Promise<void> {
    const what = `download of archive ${archive.hash.slice(0, 12)}`;
    let hash: Hash = createHash("sha256");
    let received = 0;
    await fs.writeFile(file, "", { mode: 0o600 });
    try {
      await this.withRetry(what, options.signal, async () => {
        const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
        const response = await this.fetchOnce({ what, method: "GET", path: `/agent/archives/${archive.hash}`, headers, ...options, timeoutMs: null });
        await this.check(response, what);
        if (received > 0 && response.status !== 206) {
          // The server sent it all again: start over.
          hash = createHash("sha256");
          received = 0;
          await fs.truncate(file, 0);
        }
        const handle = await fs.open(file, "a");
        try {
          // Node's web streams are async iterable; the DOM types do not say so.
          for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            received += chunk.length;
            if (received > archive.size) throw new ArchiveCorrupt(`The ${what} sent more than the ${archive.size} bytes it has.`);
            await handle.write(chunk);
          }
        } catch (error) {
          throw error instanceof ArchiveCorrupt || options.signal?.aborted ? error : new Transient(`${what} was cut: ${message(error)}`);
        } finally {
          await handle.close();
        }
      });
      const digest = hash.digest("hex");
      if (received !== archive.size || digest !== archive.hash) {
        throw new ArchiveCorrupt(
          `The archive downloaded as ${received} bytes with sha256 ${digest}, not the ${archive.size} bytes of ${archive.hash}; the copy was deleted.`,
        );
      }
    } catch (error) {
      await fs.rm(file, { force: true });
      throw error;
    }
  }

  private async post(taskId: number, verb: string, json: unknown, options: CallOptions) {
    const what = `${verb} of task ${taskId}`;
    const response = await this.send({ what, method: "POST", path: `/agent/tasks/${taskId}/${verb}`, json, ...options });
    await response.body?.cancel();
  }

  private async json<S extends z.ZodType>(schema: S, request: Send): Promise<z.infer<S>> {
    const { status, text } = await this.sendForText(request);
    return this.parse(status, text, schema, request.what);
  }

  /**
   * `send`, with the answer's body read inside the retried attempt: a connection cut
   * mid-answer (the server, or one of its replicas, killed) is retried like one cut before it.
   */
  private sendForText(request: Send): Promise<{ status: number; text: string }> {
    return this.withRetry(request.what, request.signal, async () => {
      const response = await this.fetchOnce(request);
      await this.check(response, request.what);
      try {
        return { status: response.status, text: await response.text() };
      } catch (error) {
        throw new Transient(`${request.what}: the answer from ${this.server} was cut off (${message(error)})`);
      }
    });
  }

  private parse<S extends z.ZodType>(status: number, text: string, schema: S, what: string): z.infer<S> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ServerRefused(status, `The ${what} answered something that is not JSON; is ${this.server} a Cactus server?`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ServerRefused(status, `The ${what} answered in a shape this agent does not know; update the agent or the server.`);
    }
    return parsed.data;
  }

  private send(request: Send): Promise<Response> {
    return this.withRetry(request.what, request.signal, async () => {
      const response = await this.fetchOnce(request);
      await this.check(response, request.what);
      return response;
    });
  }

  private async withRetry<T>(what: string, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    const started = Date.now();
    let wait = this.retry.initialMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof Transient) || signal?.aborted) throw error;
        const pause = jittered(wait, this.random);
        if (Date.now() - started + pause > this.retry.giveUpAfterMs) {
          throw new ServerUnreachable(`${error.message}; gave up after ${Math.round((Date.now() - started) / 1000)} s of retries.`);
        }
        this.onRetry?.(what, error, pause);
        await delay(pause, signal);
        if (signal?.aborted) throw signal.reason;
        wait = doubled(wait, this.retry.maxMs);
      }
    }
  }

  /** One request; no answer at all (refused, reset, timed out) is Transient. */
  private async fetchOnce(request: Send, transient = true): Promise<Response> {
    const { what, method, path, json, headers = {}, signal, abortInFlight = true } = request;
    const timeoutMs = request.timeoutMs === undefined ? this.timeoutMs : request.timeoutMs;
    const signals = [...(signal && abortInFlight ? [signal] : []), ...(timeoutMs === null ? [] : [AbortSignal.timeout(timeoutMs)])];
    const body = request.body ? await request.body() : undefined;
    const init: RequestInit & { duplex?: "half" } = {
      method,
      headers: {
        Accept: "application/json",
        Authorization: `Bearer ${this.token}`,
        ...(json === undefined ? {} : { "Content-Type": "application/json" }),
        ...(body ? { "Content-Length": String(body.length) } : {}),
        ...headers,
      },
      body: json === undefined ? body?.stream : JSON.stringify(json),
      signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      ...(body ? { duplex: "half" } : {}),
    };
    try {
      return await fetch(`${this.server}${API_PREFIX}${path}`, init);
    } catch (error) {
      if (signal?.aborted && abortInFlight) throw signal.reason ?? error;
      const why = `${what}: no answer from ${this.server} (${message(error)})`;
      throw transient ? new Transient(why) : new ServerUnreachable(why);
    }
  }

  /** Error answers as the errors above; 5xx and 429 as Transient, to be retried. */
  private async check(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    const text = await response.text().catch(() => "");
    let reason = `HTTP ${response.status}`;
    let explained = false;
    try {
      const parsed = apiErrorSchema.safeParse(JSON.parse(text));
      if (parsed.success) [reason, explained] = [parsed.data.error.message, true];
    } catch {
      // Not the API's error shape (a proxy's page): the status says enough.
    }
    const status = response.status;
    const refused = `The ${what} was refused: ${reason}`;
    if (status >= 500 || status === 429 || status === 408) throw new Transient(`The ${what} failed on the server: ${reason}`);
    if (status === 401) {
      // The server's own answer already says what to do; a proxy's page does not.
      const hint = explained ? "" : " — the worker token is not valid; create one with `cactus worker create` and set CACTUS_WORKER_TOKEN.";
      throw new WorkerUnauthorized(status, `${refused}${hint}`);
    }
    if (status === 403) throw new WorkerDisabled(status, `${refused} — enable the worker with \`cactus worker enable\`.`);
    if (status === 409) throw new StaleLease(status, refused);
    throw new ServerRefused(status, refused);
  }
}

function message(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

export type { ClaimedTask };
