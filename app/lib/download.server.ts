import type { Readable } from "node:stream";
import { createReadableStreamFromReadable } from "@remix-run/node";

/**
 * A stored file as the answer, streamed from storage. Names are made by
 * domain/frame-files.ts from safe characters only, so they need no escaping.
 */
export function fileResponse({
  stream,
  size,
  contentType,
  filename,
  inline = false,
  cacheControl = "private, no-store",
}: {
  stream: Readable;
  size: number;
  contentType: string;
  filename: string;
  inline?: boolean;
  cacheControl?: string;
}): Response {
  // A client that leaves mid-download cancels the body; Remix's adapter then destroys
  // the file stream with that reason and stops listening before the stream reports it,
  // which would be an uncaught 'error'. A read error before that still reaches the
  // response through the adapter's own listener.
  stream.on("error", () => undefined);
  return new Response(createReadableStreamFromReadable(stream), {
    headers: {
      "Content-Type": contentType,
      "Content-Length": String(size),
      "Content-Disposition": `${inline ? "inline" : "attachment"}; filename="${filename}"`,
      "Cache-Control": cacheControl,
    },
  });
}
