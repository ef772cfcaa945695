import { buildOpenApiDocument, type OpenApiDocument } from "../../contract/openapi";
import { apiJson, handleApi } from "~/lib/api.server";
import { getRuntime } from "~/lib/runtime.server";

// Keyed by server URL: tests boot several servers, with different public URLs, in one process.
const documents = new Map<string, OpenApiDocument>();

// Public on purpose: the document describes the API and holds no data.
export function loader() {
  return handleApi(async () => {
    const publicUrl = getRuntime().config.CACTUS_PUBLIC_URL?.replace(/\/+$/, "");
    const serverUrl = publicUrl ? `${publicUrl}/api/v1` : "/api/v1";
    let document = documents.get(serverUrl);
    if (!document) documents.set(serverUrl, (document = buildOpenApiDocument(serverUrl)));
    return apiJson(document, 200, { "Cache-Control": "public, max-age=300" });
  });
}
