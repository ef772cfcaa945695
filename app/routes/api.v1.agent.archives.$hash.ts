import { Readable } from "node:stream";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { sha256Schema } from "../../contract";
import { apiError, handleApi } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { contentRange, parseByteRange } from "~/lib/byte-range";
import { openArchiveForWorker } from "~/models/agent.server";

/** An archive's bytes for the agent that holds a task of it; a Range resumes a cut download. */
export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const worker = await requireWorker(request);
    const hash = sha256Schema.safeParse(params.hash);
    if (!hash.success) apiError("not_found", `"${params.hash}" is not an archive's sha256.`);
    const archive = await openArchiveForWorker(worker, hash.data);
    const range = parseByteRange(request.headers.get("Range"), archive.size);
    if (range === "unsatisfiable") {
      apiError("range_not_satisfiable", `The archive has ${archive.size} bytes; ask for a range that starts before its end.`, {
        "Content-Range": `bytes */${archive.size}`,
      });
    }
    const headers: Record<string, string> = {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(range ? range.end - range.start + 1 : archive.size),
      "Accept-Ranges": "bytes",
      // Content-addressed: these bytes never change.
      ETag: `"${hash.data}"`,
      "Cache-Control": "private, max-age=31536000, immutable",
    };
    if (range) headers["Content-Range"] = contentRange(range, archive.size);
    const body = Readable.toWeb(archive.read(range ?? undefined)) as ReadableStream<Uint8Array>;
    return new Response(body, { status: range ? 206 : 200, headers });
  });
}
