import { describe, expect, test } from "vitest";
import { endpoints, type Endpoint } from "./endpoints";
import { apiErrorSchema, errorCodeSchema, errorStatus, type ErrorCode } from "./errors";
import { buildOpenApiDocument, ERROR_STATUSES_DOCUMENTED, errorCodesOf, pathParamsOf, SECURITY_SCHEMES } from "./openapi";

const document = buildOpenApiDocument();
const catalogue = Object.entries(endpoints) as [string, Endpoint][];
type Operation = {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean }[];
  security?: unknown[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, unknown>;
};
const operation = (endpoint: Endpoint) => document.paths[endpoint.path]?.[endpoint.method] as Operation | undefined;

describe("the OpenAPI document", () => {
  test("has every endpoint of the catalogue under its path and method, and nothing else", () => {
    for (const [name, endpoint] of catalogue) {
      expect(operation(endpoint)?.operationId, `${endpoint.method} ${endpoint.path}`).toBe(name);
    }
    const operations = Object.values(document.paths).flatMap((methods) => Object.keys(methods));
    expect(operations).toHaveLength(catalogue.length);
  });

  test("declares every {param} of a path as a required path parameter, and no other", () => {
    for (const [, endpoint] of catalogue) {
      const declared = (operation(endpoint)?.parameters ?? []).filter((param) => param.in === "path");
      expect(declared.map((param) => param.name)).toEqual(pathParamsOf(endpoint.path));
      expect(declared.every((param) => param.required)).toBe(true);
    }
    expect(pathParamsOf("/projects/{projectId}/archives/{archiveId}")).toEqual(["projectId", "archiveId"]);
  });

  test("asks for a bearer token exactly where the catalogue says: an API token, or an agent's worker token", () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.components.securitySchemes.workerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [, endpoint] of catalogue) {
      const security = endpoint.auth === "none" ? [] : [{ [SECURITY_SCHEMES[endpoint.auth]]: [] }];
      expect(operation(endpoint)?.security, endpoint.path).toEqual(security);
    }
    expect(operation(endpoints.agentClaim)?.security).toEqual([{ workerAuth: [] }]);
    expect(operation(endpoints.me)?.security).toEqual([{ bearerAuth: [] }]);
    // Only the agent endpoints take a worker token, and all of them do.
    for (const [, endpoint] of catalogue) expect(endpoint.auth === "worker", endpoint.path).toBe(endpoint.path.startsWith("/agent/"));
  });

  test("takes the upload's body as raw bytes and its query from the query schema", () => {
    const upload = operation(endpoints.uploadArchive)!;
    expect(Object.keys(upload.requestBody!.content)).toEqual(["application/octet-stream"]);
    const query = upload.parameters!.filter((param) => param.in === "query");
    expect(query.map((param) => [param.name, param.required])).toEqual([
      ["filename", true],
      ["main", false],
    ]);
    expect(Object.keys(operation(endpoints.login)!.requestBody!.content)).toEqual(["application/json"]);
    expect(upload.parameters!.find((param) => param.in === "header")?.name).toBe("x-content-sha256");
  });

  test("takes a frame as the image itself, and gives an archive's bytes with a Range to resume", () => {
    type Described = Omit<Operation, "parameters" | "responses"> & {
      parameters: { name: string; in: string; required: boolean; schema: object }[];
      responses: Record<string, { content?: Record<string, unknown> }>;
    };
    const frame = operation(endpoints.agentUploadFrame) as unknown as Described;
    expect(Object.keys(frame.requestBody!.content)).toEqual(["image/png", "image/jpeg", "image/x-exr"]);
    expect(frame.parameters.map((param) => [param.name, param.in, param.required])).toEqual([
      ["taskId", "path", true],
      ["frame", "path", true],
      ["leaseToken", "query", true],
      ["renderTimeMs", "query", true],
    ]);
    expect(Object.keys(frame.responses)).toEqual(expect.arrayContaining(["200", "201", "409", "422"]));

    const download = operation(endpoints.agentDownloadArchive) as unknown as Described;
    expect(download.parameters.find((param) => param.name === "hash")?.schema).toMatchObject({ type: "string", pattern: "^[0-9a-f]{64}$" });
    expect(download.parameters.find((param) => param.in === "header")?.name).toBe("Range");
    expect(Object.keys(download.responses["200"].content!)).toEqual(["application/octet-stream"]);
    expect(Object.keys(download.responses["206"].content!)).toEqual(["application/octet-stream"]);

    const claim = operation(endpoints.agentClaim) as unknown as Described;
    expect(claim.responses["204"]).toEqual({ description: "Success, no content." });
    expect(claim.responses["200"].content).toHaveProperty("application/json");
  });

  test("describes a body that is not JSON (a frame, a zip, an event stream) by its media type", () => {
    type Described = { responses: Record<string, { content?: Record<string, unknown> }>; parameters: { name: string; schema: object }[] };
    const frame = operation(endpoints.getRenderFrame) as unknown as Described;
    expect(Object.keys(frame.responses["200"].content!)).toEqual(["image/*"]);
    // Blender's first frame is 0; ids start at 1.
    expect(frame.parameters.map((param) => [param.name, param.schema])).toEqual([
      ["renderId", { type: "integer", minimum: 1 }],
      ["frame", { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER }],
    ]);
    const zip = operation(endpoints.downloadRender) as unknown as Described;
    expect(Object.keys(zip.responses["200"].content!)).toEqual(["application/zip"]);
    expect(zip.parameters.filter((param) => (param as { in?: string }).in === "query").map((param) => param.name)).toEqual(["frames"]);
    const events = operation(endpoints.renderEvents) as unknown as Described;
    expect(Object.keys(events.responses["200"].content!)).toEqual(["text/event-stream"]);
    // A render request can be refused for what the archive does not know yet.
    expect(errorCodesOf(endpoints.requestRender)).toContain("unprocessable");
  });

  test("answers each endpoint's success with its status and the errors it can raise", () => {
    for (const [, endpoint] of catalogue) {
      const statuses = Object.keys(operation(endpoint)!.responses);
      const successes = [endpoint.status, ...(endpoint.alsoStatus ? [endpoint.alsoStatus] : [])];
      const expected = [...successes, ...errorCodesOf(endpoint).map((code) => errorStatus[code]), 500];
      expect(statuses.sort()).toEqual(expected.map(String).sort());
    }
    // An upload or dedupe of bytes the project already holds is a 200; a dedupe can be refused like an upload.
    expect(Object.keys(operation(endpoints.uploadArchive)!.responses)).toEqual(expect.arrayContaining(["200", "201"]));
    expect(Object.keys(operation(endpoints.dedupeArchive)!.responses)).toEqual(expect.arrayContaining(["200", "201", "422"]));
    // A disabled worker is a 403; a stale lease a 409; a refused frame a 422; a range past the end a 416.
    expect(errorCodesOf(endpoints.agentHeartbeat)).toEqual(expect.arrayContaining(["forbidden", "conflict"]));
    expect(errorCodesOf(endpoints.agentUploadFrame)).toEqual(expect.arrayContaining(["conflict", "unprocessable", "payload_too_large"]));
    expect(errorCodesOf(endpoints.agentComplete)).toContain("unprocessable");
    expect(errorCodesOf(endpoints.agentDownloadArchive)).toEqual(expect.arrayContaining(["forbidden", "range_not_satisfiable"]));
    expect(errorCodesOf(endpoints.me)).not.toContain("forbidden");
    // A write with the web app's cookie from another site is refused; any endpoint waits out a stalled database.
    expect(errorCodesOf(endpoints.createProject)).toEqual(expect.arrayContaining(["forbidden", "request_timeout", "unavailable"]));
    expect(operation(endpoints.login)?.security).toEqual([]);
    expect(errorCodesOf(endpoints.uploadArchive)).toEqual(
      expect.arrayContaining(["bad_request", "unauthorized", "not_found", "payload_too_large", "unprocessable"]),
    );
    expect(errorCodesOf(endpoints.login)).toContain("rate_limited");
  });

  test("has components that are JSON Schema objects, and every $ref resolves", () => {
    const refs: string[] = [];
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      expect(invalidKeywords(schema, refs), name).toEqual([]);
    }
    collectRefs(document.paths, refs);
    collectRefs(document.components.responses, refs);
    // OpenAPI 3.0's `nullable` is not JSON Schema: a 3.0-style component would be caught.
    expect(invalidKeywords({ type: "object", properties: { a: { type: "string", nullable: true } } }, [])).toHaveLength(1);
    expect(refs.length).toBeGreaterThan(catalogue.length);
    for (const ref of refs) {
      const [, section, name] = /^#\/components\/(schemas|responses)\/(.+)$/.exec(ref) ?? [];
      expect(document.components[section as "schemas" | "responses"]?.[name], ref).toBeDefined();
    }
  });
});

describe("the error contract", () => {
  test("its codes and statuses agree: one enum, one status per code, each a 4xx or 5xx", () => {
    expect([...errorCodeSchema.options].sort()).toEqual(Object.keys(errorStatus).sort());
    const statuses = Object.values(errorStatus);
    expect(new Set(statuses).size).toBe(statuses.length);
    for (const status of statuses) expect(status).toBeGreaterThanOrEqual(400);
    for (const status of ERROR_STATUSES_DOCUMENTED) expect(statuses).toContain(status);
  });

  test("the document's Error schema and responses say the same as errors.ts", () => {
    const error = document.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } };
    expect(error.properties.error.properties.code.enum).toEqual(errorCodeSchema.options);
    for (const code of Object.keys(errorStatus) as ErrorCode[]) {
      expect(apiErrorSchema.safeParse({ error: { code, message: "m" } }).success).toBe(true);
      const response = Object.entries(document.components.responses).find(([, value]) =>
        String(value.description).startsWith(`${errorStatus[code]}: error code \`${code}\``),
      );
      expect(response, code).toBeDefined();
    }
    expect(apiErrorSchema.safeParse({ error: { code: "teapot", message: "m" } }).success).toBe(false);
  });
});

// The keywords of JSON Schema 2020-12 (core, applicator, validation, format, content,
// meta-data): a zod feature that leaks something else into the document shows up here.
const KEYWORDS = new Set(
  (
    "$ref $defs $id $anchor $comment type enum const properties required additionalProperties items prefixItems " +
    "anyOf oneOf allOf not minLength maxLength pattern format minimum maximum exclusiveMinimum exclusiveMaximum " +
    "multipleOf minItems maxItems uniqueItems minProperties maxProperties propertyNames description title default " +
    "examples readOnly writeOnly deprecated contentMediaType contentEncoding"
  ).split(" "),
);
const TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);

function invalidKeywords(schema: unknown, refs: string[], at = "#"): string[] {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return [`${at} is not an object`];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (!KEYWORDS.has(key)) problems.push(`${at}/${key} is not a JSON Schema keyword`);
    if (key === "$ref") refs.push(value as string);
    if (key === "type" && ![value].flat().every((type) => TYPES.has(type as string))) problems.push(`${at}/type ${value}`);
    if (key === "properties" || key === "$defs") {
      for (const [name, child] of Object.entries(value as object)) problems.push(...invalidKeywords(child, refs, `${at}/${key}/${name}`));
    }
    if (["items", "not", "additionalProperties"].includes(key) && typeof value === "object") {
      problems.push(...invalidKeywords(value, refs, `${at}/${key}`));
    }
    if (["anyOf", "oneOf", "allOf", "prefixItems"].includes(key)) {
      (value as unknown[]).forEach((child, index) => problems.push(...invalidKeywords(child, refs, `${at}/${key}/${index}`)));
    }
  }
  return problems;
}

function collectRefs(value: unknown, refs: string[]): void {
  if (typeof value !== "object" || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === "$ref" && typeof child === "string") refs.push(child);
    else collectRefs(child, refs);
  }
}
