import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { createRemixRequest } from "@remix-run/express/dist/server.js";
import { createRequestHandler, type AppLoadContext, type ServerBuild } from "@remix-run/node";
import type express from "express";

/**
 * Remix behind express, like @remix-run/express's handler but for how the answer is
 * written: its adapter writes a streamed body as fast as it can read it, whatever the
 * socket takes, so a slow client of a big download (an archive, a render's zip) made
 * the server hold the whole file in memory. Here the body is piped: it is read only
 * as fast as the client takes it, and a client that goes away cancels it.
 */
export function remixHandler(
  build: ServerBuild,
  mode: string,
  getLoadContext: (req: express.Request) => AppLoadContext,
): express.RequestHandler {
  const handle = createRequestHandler(build, mode);
  return async (req, res, next) => {
    try {
      const response = await handle(createRemixRequest(req, res), getLoadContext(req));
      await sendResponse(res, response);
    } catch (error) {
      next(error);
    }
  };
}

async function sendResponse(res: express.Response, response: Response): Promise<void> {
  res.statusMessage = response.statusText;
  res.status(response.status);
  for (const [key, value] of response.headers.entries()) res.append(key, value);
  // Events must reach the client now, not with the first chunk of the body.
  if (/text\/event-stream/i.test(response.headers.get("Content-Type") ?? "")) res.flushHeaders();
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
