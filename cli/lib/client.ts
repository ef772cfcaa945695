import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { z } from "zod";
import {
  API_PREFIX,
  CONTENT_SHA256_HEADER,
  apiErrorSchema,
  endpoints,
  type EndpointName,
  type UploadedArchiveDto,
} from "../../contract";
import { AuthError, NotFoundError, UserError } from "./errors";

type Def<N extends EndpointName> = (typeof endpoints)[N];
export type ResponseOf<N extends EndpointName> = Def<N> extends { response: infer S extends z.ZodType } ? z.infer<S> : void;
type RequestOf<N extends EndpointName> = Def<N> extends { request: infer S extends z.ZodType } ? z.input<S> : never;
type ParamsOf<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? { [k in K]: number } & ParamsOf<Rest> : unknown;

export type CallOptions<N extends EndpointName> = (Def<N> extends { request: z.ZodType } ? { body: RequestOf<N> } : { body?: never }) &
  (Def<N>["path"] extends `${string}{${string}` ? { params: ParamsOf<Def<N>["path"]> } : { params?: never }) &
  (Def<N> extends { query: z.ZodType } ? { query?: Record<string, string | number | undefined> } : { query?: never });

export interface UploadOptions {
  projectId: number;
  file: string;
  size: number;
  sha256: string;
  filename: string;
  main?: string;
  onProgress?: (bytes: number) => void;
}

/**
 * Turns an error answer (`{error:{code,message}}`) into the CLI error with its exit code.
 * A refused token gets a hint where to look, unless no token was sent (a wrong password
 * at login) or the server's message already says to run `cactus login`.
 */
export function errorForStatus(status: number, bodyText: string, what: string, sentToken = true): Error {
  let message = `${what} failed with HTTP ${status}`;
  try {
    const parsed = apiErrorSchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) message = parsed.data.error.message;
  } catch {
    // Not our error shape (a proxy's HTML page, say): keep the status line.
  }
  if (status === 401) {
    if (!sentToken) return new AuthError(message);
    const hint = message.includes("cactus login") ? "check CACTUS_TOKEN / --token too" : "run `cactus login`, or check CACTUS_TOKEN / --token";
    return new AuthError(`${message} (${hint})`);
  }
  if (status === 403) return new AuthError(message);
  if (status === 404) return new NotFoundError(message);
  return new UserError(message);
}

/**
 * The typed edge of the CLI: every call names an endpoint of `contract/endpoints.ts`,
 * its answer is checked against the contract's schema, and error answers become
 * `AuthError` / `NotFoundError` / `UserError`.
 */
export class ApiClient {
  constructor(
    readonly server: string,
    private readonly token: string | undefined,
  ) {}

  async call<N extends EndpointName>(name: N, options: CallOptions<N>): Promise<ResponseOf<N>> {
    const endpoint: Def<N> = endpoints[name];
    const path = fillPath(endpoint.path, (options.params ?? {}) as Record<string, number>);
    const what = `${endpoint.method.toUpperCase()} ${API_PREFIX}${path}`;
    const headers: Record<string, string> = { Accept: "application/json", ...this.authHeader(endpoint.auth) };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      const url = new URL(`${this.server}${API_PREFIX}${path}`);
      for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
      response = await fetch(url, {
        method: endpoint.method.toUpperCase(),
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    const text = await response.text();
    if (!response.ok) throw errorForStatus(response.status, text, what, endpoint.auth !== "none");
    if (!("response" in endpoint)) return undefined as ResponseOf<N>;
    return this.parse(endpoint.response, text, what) as ResponseOf<N>;
  }

  /**
   * A GET of an endpoint that answers bytes or events rather than JSON (a frame, a zip,
   * an event stream): the response with its body unread, for the caller to stream. Error
   * answers throw as `call`'s do.
   */
  async open<N extends EndpointName>(
    name: N,
    options: { params: Record<string, number>; query?: Record<string, string | undefined>; signal?: AbortSignal },
  ): Promise<Response> {
    const endpoint: Def<N> = endpoints[name];
    const path = fillPath(endpoint.path, options.params);
    const what = `GET ${API_PREFIX}${path}`;
    const url = new URL(`${this.server}${API_PREFIX}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    let response: Response;
    try {
      response = await fetch(url, { headers: this.authHeader(endpoint.auth), signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw this.unreachable(error);
    }
    if (!response.ok) throw errorForStatus(response.status, await response.text(), what, endpoint.auth !== "none");
    return response;
  }

  /**
   * Streams a file as the body of the upload: never read whole into memory, so a
   * multi-gigabyte archive costs a read buffer, not its size. node:http rather than
   * fetch because piping a file stream into a socket is the fastest path Node has.
   */
  upload(options: UploadOptions): Promise<UploadedArchiveDto> {
    const path = fillPath(endpoints.uploadArchive.path, { projectId: options.projectId });
    const what = `POST ${API_PREFIX}${path}`;
    const url = new URL(`${this.server}${API_PREFIX}${path}`);
    url.searchParams.set("filename", options.filename);
    if (options.main) url.searchParams.set("main", options.main);
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      let answered = false;
      const source = fs.createReadStream(options.file, { highWaterMark: 1 << 20 });
      const request = transport.request(url, {
        method: "POST",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/octet-stream",
          "Content-Length": String(options.size),
          [CONTENT_SHA256_HEADER]: options.sha256,
          ...this.authHeader("user"),
        },
      });
      request.on("response", (response) => {
        answered = true;
        // The server may refuse before reading everything (too large, bad type): stop sending.
        source.unpipe(request);
        source.destroy();
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error) => reject(this.unreachable(error)));
        response.on("end", () => {
          request.destroy();
          const text = Buffer.concat(chunks).toString("utf8");
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(errorForStatus(status, text, what));
          else {
            try {
              resolve(this.parse(endpoints.uploadArchive.response, text, what));
            } catch (error) {
              reject(error);
            }
          }
        });
      });
      request.on("error", (error) => {
        if (!answered) reject(this.unreachable(error));
      });
      source.on("data", (chunk) => options.onProgress?.(chunk.length));
      source.on("error", (error) => {
        request.destroy();
        reject(new UserError(`cannot read ${options.file}: ${error.message}`));
      });
      source.pipe(request);
    });
  }

  private authHeader(auth: "none" | "user" | "worker"): Record<string, string> {
    if (auth === "none") return {};
    if (!this.token) {
      throw new AuthError("not logged in: run `cactus login --server URL --username NAME`, or set CACTUS_TOKEN");
    }
    return { Authorization: `Bearer ${this.token}` };
  }

  private parse<S extends z.ZodType>(schema: S, text: string, what: string): z.infer<S> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UserError(`${what} answered something that is not JSON; is ${this.server} a cactus server?`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError(
        `${what} answered in an unexpected shape (${issue?.path.join(".") || "body"}: ${issue?.message}); ` +
          "the server and this CLI may be different versions",
      );
    }
    return parsed.data;
  }

  private unreachable(error: unknown): UserError {
    const cause = (error as { cause?: unknown }).cause;
    const reason = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
    return new UserError(`cannot reach the server at ${this.server}: ${reason}`);
  }
}

function fillPath(template: string, params: Record<string, number>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`missing path parameter ${key} for ${template}`);
    return encodeURIComponent(String(value));
  });
}
