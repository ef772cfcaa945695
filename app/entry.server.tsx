import { PassThrough } from "node:stream";
import type { AppLoadContext, EntryContext, HandleErrorFunction } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { renderToPipeableStream } from "react-dom/server";
import { documentCsp } from "./lib/csp.server";
import { isDatabaseUnavailable } from "./lib/db.server";
import { NonceProvider } from "./lib/nonce";
import "./lib/context";

// The Node entry (server/) boots the farm through these, so the database, models and
// storage exist once, inside this bundle, next to the routes that use them.
export { startCactus } from "./lib/boot.server";
export { isDatabaseUnavailable } from "./lib/db.server";

const ABORT_DELAY_MS = 5_000;

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const nonce = loadContext.cspNonce ?? "";
  return new Promise((resolve, reject) => {
    let shellRendered = false;
    const { pipe, abort } = renderToPipeableStream(
      <NonceProvider value={nonce}>
        <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY_MS} nonce={nonce} />
      </NonceProvider>,
      {
        nonce,
        onAllReady() {
          shellRendered = true;
          const body = new PassThrough();
          responseHeaders.set("Content-Type", "text/html; charset=utf-8");
          responseHeaders.set("Content-Security-Policy", documentCsp(nonce));
          resolve(
            new Response(createReadableStreamFromReadable(body), {
              headers: responseHeaders,
              status: responseStatusCode,
            }),
          );
          pipe(body);
        },
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          if (shellRendered) console.error(error);
        },
      },
    );
    setTimeout(abort, ABORT_DELAY_MS);
  });
}

/**
 * What a failed loader or action leaves in the server's log: a 404 or a refusal is one
 * line, a database that does not answer is one line (and the answer becomes a 503, see
 * server/remix-handler.ts), and only a real bug gets its stack.
 */
export const handleError: HandleErrorFunction = (error, { request, context }) => {
  if (request.signal.aborted) return;
  const where = `${request.method} ${new URL(request.url).pathname}`;
  if (isRouteErrorResponse(error)) {
    const cause = (error as { error?: unknown }).error;
    console.log(`${where}: ${error.status} ${cause instanceof Error ? cause.message : error.statusText}`);
    return;
  }
  if (isDatabaseUnavailable(error)) {
    context.databaseUnavailable = true;
    console.error(`${where}: 503, the database did not answer (${error instanceof Error ? error.message : String(error)}).`);
    return;
  }
  console.error(error);
};
