import { z } from "zod";
import type { FieldIssue } from "@shop/errors";
import { accessOf } from "./access.ts";
import { MAX_BODY_BYTES } from "./body.ts";
import { commonErrorStatuses } from "./errors.ts";
import { issuesOf } from "./input-validation.ts";
import { problem } from "./problem.ts";
import type { ProblemExample, RouteSpec } from "./routes.ts";

declare module "zod" {
  interface GlobalMeta {
    /**
     * JSON Schema keywords laid over what zod derives, for the document only: the integer a query
     * string carries, or the examples of an input that zod transforms (it leaves those out).
     */
    openapi?: Record<string, unknown>;
  }
}

type Json = Record<string, unknown>;
type AnySchema = z.ZodType;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** The trace id every example problem carries (the W3C Trace Context specification's own example). */
export const EXAMPLE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** What a client should make of each error status: the response's description. */
export const STATUS_MEANINGS: Record<number, string> = {
  400: "The request is invalid as sent; nothing changed. `VALIDATION_FAILED` lists the offending fields in `errors`",
  401: "No valid token (missing, malformed, expired, or not issued for this API)",
  403: "The token is valid but does not allow this",
  404: "No such resource, or not one of this user's",
  409: "The request conflicts with the current state; nothing changed",
  413: `The body is larger than ${MAX_BODY_BYTES / 1024} KiB (after decompression); nothing changed`,
  415: "The body is not JSON (`application/json` or `application/*+json`, UTF-8); nothing changed",
  422: "The Idempotency-Key was used before with a different body; nothing changed",
  429: "Too many requests; retry after `Retry-After` seconds",
  502: "The gateway could not reach the service; nothing is known to have changed, retry with the same Idempotency-Key",
  503: "Temporarily unavailable; retry (after `Retry-After` seconds when it is given)",
  504: "The service did not answer in time; the request may or may not have taken effect, retry with the same Idempotency-Key",
};

/** Example details of the codes any route may answer with (the texts the code really sends). */
const SHARED_PROBLEMS: Record<string, ProblemExample> = {
  MALFORMED_REQUEST: {
    summary: "A request that cannot be read as one (here: two Authorization headers)",
    detail: "a request may carry one Authorization header only",
  },
  UNAUTHORIZED: { summary: "No Authorization header", detail: "a Bearer token is required" },
  NOT_FOUND: { summary: "No such resource", detail: "the resource was not found" },
  PAYLOAD_TOO_LARGE: { summary: "Body over 64 KiB", detail: `the request body is larger than ${MAX_BODY_BYTES} bytes` },
  UNSUPPORTED_MEDIA_TYPE: { summary: "A body that is not JSON", detail: "the request body must be JSON (Content-Type: application/json)" },
  IDEMPOTENCY_KEY_REUSED: { summary: "Same key, different body", detail: "this Idempotency-Key was already used with a different request body" },
  SERVICE_UNAVAILABLE: { summary: "A dependency is down", detail: "a dependency of this service is unavailable; retry shortly" },
};

/** Headers that go with an error status. */
const ERROR_HEADERS: Record<number, Json> = {
  401: { "WWW-Authenticate": { description: "The Bearer challenge (RFC 6750)", required: true, schema: { type: "string" }, example: 'Bearer realm="shop"' } },
  429: { "Retry-After": { description: "Seconds to wait before retrying", required: true, schema: { type: "integer", minimum: 1 }, example: 1 } },
  503: { "Retry-After": { description: "Seconds to wait before retrying, when known", schema: { type: "integer", minimum: 1 }, example: 2 } },
};

/**
 * RFC 9457 problem, shared by every error answer. `code` is the stable, machine-readable part;
 * each operation lists which codes come with which status.
 */
export const PROBLEM_SCHEMA: Json = {
  type: "object",
  description:
    "RFC 9457 problem (`application/problem+json`). Besides the statuses each operation lists, any request may get: " +
    "405 METHOD_NOT_ALLOWED (a method the path does not have; `Allow` lists those it has), 414 URI_TOO_LONG (a request target over 8 KiB), " +
    "431 HEADERS_TOO_LARGE, and, never by design, 500 INTERNAL_ERROR (logged with the `traceId`). No answer carries a stack trace or SQL.",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: {
      type: "string",
      format: "uri",
      description: "Identifies the problem type; one per code",
      examples: ["https://docs.shop.local/problems/validation-failed"],
    },
    title: { type: "string", description: "The status's reason phrase", examples: ["Bad Request"] },
    status: { type: "integer", minimum: 400, maximum: 599, description: "The HTTP status, repeated" },
    detail: { type: "string", description: "What went wrong with this request, for people" },
    code: {
      type: "string",
      pattern: "^[A-Z][A-Z0-9_]*$",
      description: "Stable machine-readable code; see each operation's responses for the codes of each status",
    },
    traceId: { type: "string", pattern: "^[0-9a-f]{32}$", description: "W3C trace id of the request, for finding it in the logs" },
    errors: {
      type: "array",
      description: "VALIDATION_FAILED: every offending field (`path.`, `query.`, `header.` or `body.` and its path)",
      items: { type: "object", required: ["field", "message"], properties: { field: { type: "string" }, message: { type: "string" } } },
    },
  },
};

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
/** Formats whose meaning zod also spells as a (long) pattern; the format says it for people and validators alike. */
const FORMATS_WITHOUT_PATTERN = new Set(["date-time", "uuid"]);
/** Keywords whose values are data, not schemas: left as they are. */
const DATA_KEYWORDS = new Set(["examples", "example", "const", "enum", "default"]);

/**
 * zod's JSON Schema made readable and exact: the ±2^53 bounds zod gives every integer go (they are
 * its own representation limit, not the API's), a format replaces the pattern that spells it out,
 * `openapi` metadata is laid over, and `$defs` references point into the document's components.
 */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (!isObject(node)) return node;
  const { openapi, ...rest } = node;
  let out: Json = {};
  for (const [key, value] of Object.entries(rest)) out[key] = DATA_KEYWORDS.has(key) ? value : tidy(value);
  if (out.minimum === -SAFE_INTEGER) delete out.minimum;
  if (out.maximum === SAFE_INTEGER) delete out.maximum;
  if (typeof out.format === "string" && FORMATS_WITHOUT_PATTERN.has(out.format)) delete out.pattern;
  if (isObject(openapi)) {
    if (openapi.type !== undefined && openapi.type !== out.type) delete out.pattern;
    out = { ...out, ...openapi };
  }
  if (typeof out.$ref === "string") out.$ref = out.$ref.replace(/^#\/\$defs\//, "#/components/schemas/");
  return out;
}

/**
 * A schema's JSON Schema; the shapes it names (`.meta({ id })`) go to `components` once, and a name
 * may stand for one shape only.
 */
function jsonSchema(schema: AnySchema, io: "input" | "output", components: Json): Json {
  const { $schema: _ignored, $defs, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  if (isObject($defs)) {
    for (const [name, definition] of Object.entries($defs)) {
      const tidied = tidy(definition);
      if (components[name] !== undefined && JSON.stringify(components[name]) !== JSON.stringify(tidied))
        throw new Error(`two different schemas are both named ${name}`);
      components[name] = tidied;
    }
  }
  return tidy(rest) as Json;
}

/** `idempotency-key` → `Idempotency-Key`: node lower-cases header names, the document shows them as clients write them. */
const headerName = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());

function parametersOf(schema: unknown, location: "path" | "query" | "header", components: Json): Json[] {
  if (!(schema instanceof z.ZodObject)) return [];
  const shape = schema.shape as Record<string, AnySchema>;
  return Object.entries(shape).map(([name, field]) => {
    const { description, examples, ...fieldSchema } = jsonSchema(field, "input", components);
    return {
      name: location === "header" ? headerName(name) : name,
      in: location,
      required: location === "path" || !field.safeParse(undefined).success,
      ...((description ?? field.description) ? { description: description ?? field.description } : {}),
      schema: fieldSchema,
      ...(Array.isArray(examples) && examples.length ? { example: examples[0] as unknown } : {}),
    };
  });
}

function check(what: string, schema: AnySchema, example: unknown): void {
  const result = schema.safeParse(example);
  if (!result.success) throw new Error(`the example of ${what} does not match its schema: ${result.error.message}`);
}

/**
 * What the route's own validation says about an invalid request: its `invalidExample`, else an
 * empty body, a `limit` of 0 or an unknown query parameter. The example shows real messages.
 */
function validationIssues(route: RouteSpec): FieldIssue[] {
  const sample =
    route.invalidExample ?? (route.body ? { body: {} } : route.query ? { query: { sort: "price" } } : route.params ? { params: { userId: "민지" } } : {});
  const parts: Array<[unknown, unknown, string]> = [
    [route.params, sample.params, "path"],
    [route.query, sample.query, "query"],
    [route.body, sample.body, "body"],
    [route.headers, sample.headers, "header"],
  ];
  const issues: FieldIssue[] = [];
  for (const [schema, value, location] of parts) {
    if (!schema || value === undefined) continue;
    const result = (schema as AnySchema).safeParse(value);
    if (!result.success) issues.push(...issuesOf(result.error, location));
  }
  return issues;
}

interface ProblemCase {
  code: string;
  example: ProblemExample;
}

function problemExampleValue(status: number, { code, example }: ProblemCase): Json {
  return { ...problem(status, code, example.detail, example.extensions), traceId: EXAMPLE_TRACE_ID };
}

/**
 * One response per error status: the codes it carries (in the description and as an enum, so a
 * validator catches an unlisted one) and a named example per code.
 */
export function problemResponse(status: number, cases: ProblemCase[]): Json {
  const codes = cases.map((c) => c.code);
  return {
    description: `${STATUS_MEANINGS[status] ?? "Error"}. Codes: ${codes.map((c) => `\`${c}\``).join(", ")}`,
    ...(ERROR_HEADERS[status] ? { headers: ERROR_HEADERS[status] } : {}),
    content: {
      "application/problem+json": {
        schema: { allOf: [{ $ref: "#/components/schemas/Problem" }, { type: "object", properties: { status: { const: status }, code: { enum: codes } } }] },
        examples: Object.fromEntries(cases.map((c) => [c.code, { summary: c.example.summary ?? c.code, value: problemExampleValue(status, c) }])),
      },
    },
  };
}

/** Adds `cases` to the error response of `status` in `responses` (creating it), keeping codes unique. */
export function addProblemCases(responses: Json, status: number, cases: ProblemCase[]): void {
  const existing = responses[String(status)] as Json | undefined;
  const known: ProblemCase[] = [];
  if (existing) {
    const media = (existing.content as Json)["application/problem+json"] as Json;
    for (const [code, example] of Object.entries(media.examples as Record<string, { summary: string; value: Json }>)) {
      const { type: _t, title: _ti, status: _s, detail, code: _c, traceId: _tr, ...extensions } = example.value;
      known.push({ code, example: { summary: example.summary, detail: detail as string, ...(Object.keys(extensions).length ? { extensions } : {}) } });
    }
  }
  for (const c of cases) if (!known.some((k) => k.code === c.code)) known.push(c);
  responses[String(status)] = problemResponse(status, known);
}

/** The error cases of a route: its declared codes plus what the shared edges answer (validation, access, bodies, dependencies). */
function problemCases(route: RouteSpec, statuses: Record<string, number>): Map<number, ProblemCase[]> {
  const byStatus = new Map<number, ProblemCase[]>();
  const add = (code: string, example: ProblemExample | undefined) => {
    const status = statuses[code] ?? 409;
    const list = byStatus.get(status) ?? [];
    if (list.some((c) => c.code === code)) return;
    const chosen = route.problemExamples?.[code] ?? example ?? SHARED_PROBLEMS[code];
    if (!chosen) throw new Error(`route ${route.method.toUpperCase()} ${route.path}: no example for error code ${code} (give one in problemExamples)`);
    list.push({ code, example: chosen });
    byStatus.set(status, list);
  };
  const issues = validationIssues(route);
  if (issues.length) {
    add("VALIDATION_FAILED", { summary: "An invalid field", detail: issues.map((i) => `${i.field}: ${i.message}`).join("; "), extensions: { errors: issues } });
  }
  add("MALFORMED_REQUEST", undefined);
  const access = accessOf(route);
  if (access !== "public") add("UNAUTHORIZED", undefined);
  if (access === "user") add("FORBIDDEN", { summary: "Another user's resource", detail: "a user may only act on their own resources" });
  if (access === "admin") add("FORBIDDEN", { summary: "Not an admin", detail: "this endpoint requires the admin role" });
  if (route.body) {
    add("PAYLOAD_TOO_LARGE", undefined);
    add("UNSUPPORTED_MEDIA_TYPE", undefined);
  }
  for (const code of route.errors ?? []) add(code, undefined);
  add("SERVICE_UNAVAILABLE", undefined);
  return byStatus;
}

/**
 * The OpenAPI 3.1 document of a service's routes, from the same zod schemas that validate them:
 * parameters, bodies and answers with their examples (each checked against its schema here), and
 * for every error status the codes that come with it. `errorStatuses` is the service's table on
 * top of the shared one, as its error handler uses it.
 */
export function openApiDocument(info: OpenApiInfo, routes: RouteSpec[], errorStatuses: Record<string, number> = {}): Json {
  const statuses = { ...commonErrorStatuses, ...errorStatuses };
  const schemas: Json = {};
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const name = `${route.method.toUpperCase()} ${route.path}`;
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const responses: Json = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      if (spec.schema && spec.example !== undefined) check(`${name} ${status}`, spec.schema, spec.example);
      const content = spec.schema
        ? {
            content: {
              "application/json": { schema: jsonSchema(spec.schema, "output", schemas), ...(spec.example !== undefined ? { example: spec.example } : {}) },
            },
          }
        : {};
      responses[status] = { description: spec.description, ...(spec.headers ? { headers: spec.headers } : {}), ...content };
    }
    for (const [status, cases] of [...problemCases(route, statuses)].sort(([a], [b]) => a - b)) responses[String(status)] = problemResponse(status, cases);
    if (route.body && route.bodyExample !== undefined) check(`${name} request body`, route.body as AnySchema, route.bodyExample);
    const parameters = [
      ...parametersOf(route.params, "path", schemas),
      ...parametersOf(route.query, "query", schemas),
      ...parametersOf(route.headers, "header", schemas),
    ];
    (paths[path] ??= {})[route.method] = {
      ...(route.operationId ? { operationId: route.operationId } : {}),
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.tags ? { tags: route.tags } : {}),
      ...(accessOf(route) === "public" ? {} : { security: [{ bearerAuth: [] }] }),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                "application/json": {
                  schema: jsonSchema(route.body as AnySchema, "input", schemas),
                  ...(route.bodyExample !== undefined ? { example: route.bodyExample } : {}),
                },
              },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info,
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA, ...schemas },
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  };
}
