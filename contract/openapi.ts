import { z } from "zod";
import * as accounts from "./accounts";
import * as agent from "./agent";
import * as archives from "./archives";
import { endpoints, type Endpoint } from "./endpoints";
import { apiErrorSchema, errorStatus, type ErrorCode } from "./errors";
import * as projects from "./projects";
import * as renders from "./renders";
import * as workers from "./workers";

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: { url: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
  };
}

/** The error responses an endpoint can answer with, from what it takes (see errorCodesOf). */
export const ERROR_STATUSES_DOCUMENTED = [400, 401, 403, 404, 408, 409, 413, 416, 422, 429, 503] as const;

// Components are named after the contract's own exports (`projectSchema` → `Project`), so
// the document reads like the code; an unexported schema gets the endpoint's name.
const namedSchemas = new Map<z.ZodType, string>();
for (const module of [accounts, agent, archives, projects, renders, workers]) {
  for (const [name, value] of Object.entries(module)) {
    if (value instanceof z.ZodType && name.endsWith("Schema")) {
      namedSchemas.set(value, name[0].toUpperCase() + name.slice(1, -"Schema".length));
    }
  }
}

/**
 * Which errors an endpoint may answer with. The catalogue does not list them, so they
 * follow from what the endpoint takes: anything can be a bad request; a token or a
 * password can be wrong; a worker can be disabled by its owner; an id in the path can name
 * nothing (or someone else's thing); a write can collide (or hold a stale lease); a body can
 * be too big or stall midway; uploaded bytes can be unusable; the unauthenticated endpoints (sign-in,
 * sign-up) are rate-limited; a write sent with the web app's cookie from another site is
 * forbidden; and any endpoint answers 503 while the database does not. An endpoint's own
 * `errors` add what does not follow from these.
 */
export function errorCodesOf(endpoint: Endpoint): ErrorCode[] {
  const codes: ErrorCode[] = ["bad_request", "unauthorized"];
  if (endpoint.auth === "worker" || endpoint.method !== "get") codes.push("forbidden");
  if (endpoint.path.includes("{") || endpoint.binaryBody) codes.push("not_found");
  if (endpoint.request || endpoint.binaryBody) codes.push("request_timeout");
  if (endpoint.method !== "get") codes.push("conflict");
  if (endpoint.request || endpoint.binaryBody) codes.push("payload_too_large");
  if (endpoint.binaryBody) codes.push("unprocessable");
  if (endpoint.auth === "none") codes.push("rate_limited");
  codes.push("unavailable");
  for (const code of endpoint.errors ?? []) if (!codes.includes(code)) codes.push(code);
  return codes;
}

/** The security scheme of each kind of caller: people's API tokens and agents' worker tokens. */
export const SECURITY_SCHEMES = { user: "bearerAuth", worker: "workerAuth" } as const;

export function pathParamsOf(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
}

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });
  return rest;
}

const errorResponseName = (code: ErrorCode) => code.split("_").map((word) => word[0].toUpperCase() + word.slice(1)).join("");

/** The API's OpenAPI 3.1 document, generated from the endpoint catalogue. */
export function buildOpenApiDocument(serverUrl = "/api/v1"): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { Error: jsonSchema(apiErrorSchema, "output") };
  const ref = (schema: z.ZodType, io: "input" | "output", fallback: string) => {
    const name = namedSchemas.get(schema) ?? fallback;
    schemas[name] ??= jsonSchema(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };

  const responses: Record<string, JsonSchema> = {};
  for (const [code, status] of Object.entries(errorStatus) as [ErrorCode, number][]) {
    responses[errorResponseName(code)] = {
      description: `${status}: error code \`${code}\`; the message says what to do next.`,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }

  const paths: OpenApiDocument["paths"] = {};
  for (const [name, endpoint] of Object.entries(endpoints) as [string, Endpoint][]) {
    const operationName = name[0].toUpperCase() + name.slice(1);
    const ownParams = endpoint.params?.shape as Record<string, z.ZodType> | undefined;
    const parameters: JsonSchema[] = pathParamsOf(endpoint.path).map((param) => ({
      name: param,
      in: "path",
      required: true,
      // Ids start at 1; other parameters (a frame, a hash) say what they are in `params`.
      schema: ownParams?.[param] ? jsonSchema(ownParams[param], "input") : { type: "integer", minimum: 1 },
    }));
    if (endpoint.query) {
      const query = jsonSchema(endpoint.query, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [param, schema] of Object.entries(query.properties ?? {})) {
        const { description, ...rest } = schema;
        parameters.push({ name: param, in: "query", required: query.required?.includes(param) ?? false, description, schema: rest });
      }
    }
    if (endpoint.binaryBody?.sha256Header) {
      parameters.push({
        name: archives.CONTENT_SHA256_HEADER,
        in: "header",
        required: false,
        description: "sha256 of the body as the client computed it; on a mismatch nothing is stored.",
        schema: jsonSchema(archives.sha256Schema, "input"),
      });
    }

    if (endpoint.alsoStatus === 206) {
      parameters.push({
        name: "Range",
        in: "header",
        required: false,
        description: "One range, `bytes=START-` or `bytes=START-END`, to resume a cut download (answered with 206).",
        schema: { type: "string" },
      });
    }

    const operation: JsonSchema = { operationId: name, summary: endpoint.summary };
    if (parameters.length > 0) operation.parameters = parameters;
    // An empty list says "no token needed" (sign-in, sign-up), where leaving it out would say nothing.
    operation.security = endpoint.auth === "none" ? [] : [{ [SECURITY_SCHEMES[endpoint.auth]]: [] }];
    if (endpoint.binaryBody) {
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(
          endpoint.binaryBody.mediaTypes.map((type) => [type, { schema: { type: "string", contentMediaType: type } }]),
        ),
      };
    } else if (endpoint.request) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: ref(endpoint.request, "input", `${operationName}Request`) } },
      };
    }
    const success = (status: number): JsonSchema => {
      if (status === 204) return { description: "Success, no content." };
      const type = endpoint.binaryResponse;
      if (type) {
        return {
          description: status === 206 ? "The range asked for." : "Success.",
          content: { [type]: { schema: { type: "string", contentMediaType: type } } },
        };
      }
      if (!endpoint.response) return { description: "Success, no content." };
      return {
        description: "Success.",
        content: { "application/json": { schema: ref(endpoint.response, "output", `${operationName}Response`) } },
      };
    };
    operation.responses = {
      ...Object.fromEntries([endpoint.status, endpoint.alsoStatus ?? endpoint.status].map((status) => [String(status), success(status)])),
      ...Object.fromEntries(
        errorCodesOf(endpoint).map((code) => [
          String(errorStatus[code]),
          { $ref: `#/components/responses/${errorResponseName(code)}` },
        ]),
      ),
      "500": { $ref: `#/components/responses/${errorResponseName("internal")}` },
    };
    (paths[endpoint.path] ??= {})[endpoint.method] = operation;
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "Blender Cactus API",
      version: "1",
      // No open-source licence: the SPDX way of saying "our own terms".
      license: { name: "Proprietary: all rights reserved", identifier: "LicenseRef-Proprietary" },
      description:
        "The JSON API of a Blender Cactus server, used by the `cactus` CLI and the agents. " +
        "Authenticate with `Authorization: Bearer <API token>` (`cactus token create`); agents use their " +
        "worker token (`cactus worker create`) on the /agent endpoints. " +
        "Every error answers `{ error: { code, message } }`.",
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      schemas,
      responses,
      securitySchemes: {
        [SECURITY_SCHEMES.user]: { type: "http", scheme: "bearer", description: "An API token (cct_…)." },
        [SECURITY_SCHEMES.worker]: { type: "http", scheme: "bearer", description: "A worker token (ccw_…), for cactus-agent." },
      },
    },
  };
}
