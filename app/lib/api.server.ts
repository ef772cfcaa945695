import type { z } from "zod";
import { errorStatus, type ApiError, type ErrorCode } from "../../contract";
import { isDatabaseUnavailable } from "./db.server";
import { Problem } from "./problem.server";
import { isStorageUnavailable } from "./s3-storage.server";

/** A JSON response of the API. */
export function apiJson(data: unknown, status = 200, headers?: HeadersInit): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

export function apiErrorResponse(code: ErrorCode, message: string, headers?: HeadersInit): Response {
  const body: ApiError = { error: { code, message } };
  return apiJson(body, errorStatus[code], headers);
}

/** Ends the request with the API's error shape; guards and parsers throw it. */
export function apiError(code: ErrorCode, message: string, headers?: HeadersInit): never {
  throw apiErrorResponse(code, message, headers);
}

/** Seconds a client is told to wait while the database does not answer. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The 503 of a request the database could not serve: try again shortly. */
export function databaseUnavailableResponse(): Response {
  return apiErrorResponse(
    "unavailable",
    `The farm's database is not answering right now; nothing was changed. Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds.`,
    { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) },
  );
}

/** The 503 of a request the blob store (S3) could not serve (decision 020). */
export function storageUnavailableResponse(error: unknown): Response {
  console.error(`Answered 503: ${error instanceof Error ? error.message : String(error)}`);
  return apiErrorResponse(
    "unavailable",
    `The farm's file store is not answering right now; nothing was changed. Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds.`,
    { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) },
  );
}

/** One line saying the database failed a request, instead of a stack trace of the pool's. */
export function logDatabaseUnavailable(error: unknown): void {
  console.error(`Answered 503: the database did not answer (${error instanceof Error ? error.message : String(error)}).`);
}

/**
 * Runs a resource route's handler: thrown responses pass through, a database or blob
 * store that does not answer is a 503 to retry, anything else is logged and answered as a 500 in the
 * API's shape, never with a stack trace.
 */
export async function handleApi(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Response) return error;
    if (error instanceof Problem) return apiErrorResponse(error.code, error.message);
    // First: the store's connection errors (ECONNREFUSED…) would pass for the database's.
    if (isStorageUnavailable(error)) return storageUnavailableResponse(error);
    if (isDatabaseUnavailable(error)) {
      logDatabaseUnavailable(error);
      return databaseUnavailableResponse();
    }
    console.error(error);
    return apiErrorResponse("internal", "The server failed to handle this request; it has been logged.");
  }
}

/** Dispatches an action by HTTP method; other methods get 405-like 400s in our shape. */
export function byMethod(
  request: Request,
  handlers: Partial<Record<"POST" | "PUT" | "PATCH" | "DELETE", () => Promise<Response>>>,
): Promise<Response> {
  const handler = handlers[request.method as keyof typeof handlers];
  if (!handler) {
    return Promise.resolve(
      apiErrorResponse("bad_request", `${request.method} is not supported here; use ${Object.keys(handlers).join(" or ")}.`),
    );
  }
  return handleApi(handler);
}

const MAX_JSON_BYTES = 1024 * 1024;

/** Reads and validates a JSON body; a bad one is a 400 saying which field and why. */
export async function parseJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  // The body is left unread: the connection closes after the answer rather than wait for it.
  if (declared > MAX_JSON_BYTES) apiError("payload_too_large", "A JSON body is at most 1 MiB.", { Connection: "close" });
  let body: unknown;
  try {
    const text = await request.text();
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    apiError("bad_request", "The body is not valid JSON.");
  }
  return parseWith(schema, body);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
      .join("; ");
    apiError("bad_request", message);
  }
  return parsed.data;
}

/** A numeric id from the URL; anything else is simply not found. */
export function idParam(params: Record<string, string | undefined>, name: string, what: string): number {
  const raw = params[name] ?? "";
  const id = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) apiError("not_found", `No ${what} ${raw}.`);
  return id;
}

export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}
