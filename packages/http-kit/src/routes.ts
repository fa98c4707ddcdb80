import { Router, type Request, type RequestHandler, type Response } from "express";
import { z } from "zod";
import { validatedInput } from "./input-validation.ts";
import { methodNotAllowedFallback, percentEncodingGuard } from "./path-matching.ts";
import { accessGuard, type Access } from "./access.ts";

type Method = "get" | "post" | "put" | "patch" | "delete";
type AnySchema = z.ZodType;
type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B, H> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  headers: Infer<H>;
}

export interface ResponseSpec {
  description: string;
  schema?: AnySchema;
}

/** One definition drives validation at the edge, the handler's input types and the OpenAPI document. */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown, H = unknown> {
  method: Method;
  /** Express path syntax, e.g. `/api/v1/users/:userId/balance`. */
  path: string;
  summary: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Header names in lower case. */
  headers?: H;
  responses: Record<number, ResponseSpec>;
  /** Business error codes this route can answer with, for the document. */
  errors?: string[];
  /** Who may call it; by default implied by the path (see accessOf). */
  access?: Access;
  /** For `service` routes: the services allowed to call. */
  callers?: string[];
  handler: (input: RouteInput<P, Q, B, H>, context: { req: Request; res: Response }) => Promise<HttpResult> | HttpResult;
}

export function defineRoute<
  P extends AnySchema | undefined = undefined,
  Q extends AnySchema | undefined = undefined,
  B extends AnySchema | undefined = undefined,
  H extends AnySchema | undefined = undefined,
>(spec: RouteSpec<P, Q, B, H>): RouteSpec {
  return spec;
}

/** `guard` builds each route's caller check (see access.ts); without one, only public routes may be served. */
export function routerFor(routes: RouteSpec[], guard: (route: RouteSpec) => RequestHandler | undefined = accessGuard(undefined)): Router {
  const router = Router();
  router.use(percentEncodingGuard(routes));
  for (const route of routes) {
    const checkCaller = guard(route);
    router[route.method](route.path, ...(checkCaller ? [checkCaller] : []), async (req: Request, res: Response) => {
      const input = validatedInput(route, req);
      res.locals.route = route.path;
      const result = await route.handler(input, { req, res });
      if (result.headers) res.set(result.headers);
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    });
  }
  router.use(methodNotAllowedFallback(routes));
  return router;
}

// --- OpenAPI 3.1 ---------------------------------------------------------------------------

const problemSchema = {
  type: "object",
  description:
    "RFC 9457 problem. Codes any route may answer besides its own: VALIDATION_FAILED (400, `errors` names the fields), MALFORMED_REQUEST (400, an undecodable body or a body on a route that takes none), " +
    "METHOD_NOT_ALLOWED (405, with Allow), PAYLOAD_TOO_LARGE (413), UNSUPPORTED_MEDIA_TYPE (415, a body that is not JSON), SERVICE_UNAVAILABLE (503, with Retry-After), INTERNAL_ERROR (500).",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
    traceId: { type: "string" },
    errors: { type: "array", items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } } },
  },
};

function jsonSchema(schema: AnySchema, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

function parametersOf(schema: unknown, location: "path" | "query" | "header"): unknown[] {
  if (!(schema instanceof z.ZodObject)) return [];
  const shape = schema.shape as Record<string, AnySchema>;
  return Object.entries(shape).map(([name, field]) => ({
    name,
    in: location,
    required: location === "path" || !field.safeParse(undefined).success,
    description: field.description,
    schema: jsonSchema(field, "input"),
  }));
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export function openApiDocument(info: OpenApiInfo, routes: RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = spec.schema ? { description: spec.description, content: { "application/json": { schema: jsonSchema(spec.schema, "output") } } } : { description: spec.description };
    }
    responses.default = { description: `problem+json${route.errors?.length ? `; codes: ${route.errors.join(", ")}` : ""}`, content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } };
    (paths[path] ??= {})[route.method] = {
      summary: route.summary,
      tags: route.tags,
      parameters: [...parametersOf(route.params, "path"), ...parametersOf(route.query, "query"), ...parametersOf(route.headers, "header")],
      ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body as AnySchema, "input") } } } } : {}),
      responses,
    };
  }
  return { openapi: "3.1.0", info, paths, components: { schemas: { Problem: problemSchema } } };
}
