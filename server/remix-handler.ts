import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { createRemixRequest } from "@remix-run/express/dist/server.js";
import { createRequestHandler, type AppLoadContext, type ServerBuild } from "@remix-run/node";
import type express from "express";
import { RESOURCE_CSP } from "../app/lib/csp.server";
import { sendUnavailable } from "./unavailable";

export interface RemixHandlerOptions {
  mode: string;
  getLoadContext(req: express.Request): AppLoadContext;
  /** While true, requests are answered 503 without reaching a route (see server/unavailable.ts). */
  databaseDown(): boolean;
}

// Health says itself whether the database answers.
const ALWAYS_ASKED = new Set(["/api/v1/health"]);

/**
 * Remix behind express, like @remix-run/express's handler but for how the answer is
 * written: its adapter writes a streamed body as fast as it can read it, whatever the
 * socket takes, so a slow client of a big download (an archive, a render's zip) made
 * the server hold the whole file in memory. Here the body is piped: it is read only
 * as fast as the client takes it, and a client that goes away cancels it.
 */
export function remixHandler(build: ServerBuild, options: RemixHandlerOptions): express.RequestHandler {
  const handle = createRequestHandler(build, options.mode);
  return async (req, res, next) => {
    const nonce = randomBytes(16).toString("base64");
    if (options.databaseDown() && !ALWAYS_ASKED.has(req.path)) return sendUnavailable(req, res, nonce);
    try {
      const context: AppLoadContext = { ...options.getLoadContext(req), cspNonce: nonce };
      const response = await handle(createRemixRequest(req, res), context);
      // A stalled body was answered 408 already (server/connections.ts).
      if (res.headersSent) return;
      if (context.databaseUnavailable && response.status >= 500) return sendUnavailable(req, res, nonce);
      // Remix's own 405 (a method no loader or action takes) is not in the API's shape; byMethod's refusal is.
      if (response.status === 405 && req.path.startsWith("/api/")) {
        await response.body?.cancel();
        res.status(400).json({
          error: { code: "bad_request", message: `${req.method} is not supported by ${req.path}; see /api/v1/openapi.json for what it takes.` },
        });
        return;
      }
      await sendResponse(res, response);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      next(error);
    }
  };
}

async function sendResponse(res: express.Response, response: Response): Promise<void> {
  res.statusMessage = response.statusText;
  res.status(response.status);
  for (const [key, value] of response.headers.entries()) res.append(key, value);
  // Pages set their own policy (entry.server.tsx); scripts (a service worker's) must not get one that forbids fetching.
  const type = response.headers.get("Content-Type") ?? "";
  if (!response.headers.has("Content-Security-Policy") && !/html|javascript/i.test(type)) res.set("Content-Security-Policy", RESOURCE_CSP);
  // Events must reach the client now, not with the first chunk of the body.
  if (/text\/event-stream/i.test(type)) res.flushHeaders();
  if (!response.body) {
    res.end();
    return;
  }
  try {
    await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), res);
  } catch (error) {
    // A client that hangs up mid-body is no server error; anything else is logged (the headers are gone).
    if ((error as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") console.error(error);
  }
}
