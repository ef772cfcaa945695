import { describe, expect, test } from "vitest";
import { endpoints, type Endpoint } from "./endpoints";
import { apiErrorSchema, errorCodeSchema, errorStatus, type ErrorCode } from "./errors";
import { buildOpenApiDocument, ERROR_STATUSES_DOCUMENTED, errorCodesOf, pathParamsOf } from "./openapi";

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

  test("asks for a bearer token exactly where the catalogue says", () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [, endpoint] of catalogue) {
      expect(operation(endpoint)?.security, endpoint.path).toEqual(endpoint.auth === "user" ? [{ bearerAuth: [] }] : undefined);
    }
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
  });

  test("answers each endpoint's success with its status and the errors it can raise", () => {
    for (const [, endpoint] of catalogue) {
      const statuses = Object.keys(operation(endpoint)!.responses);
      const expected = [endpoint.status, ...errorCodesOf(endpoint).map((code) => errorStatus[code]), 500];
      expect(statuses.sort()).toEqual(expected.map(String).sort());
    }
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
