import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { ValidationError, type FieldIssue } from "@shop/errors";

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

function issuesOf(error: z.ZodError, location: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [location, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

function parsePart(schema: unknown, value: unknown, location: string, issues: FieldIssue[]): unknown {
  if (!schema) return undefined;
  const result = (schema as AnySchema).safeParse(value);
  if (result.success) return result.data;
  issues.push(...issuesOf(result.error, location));
  return undefined;
}

export function routerFor(routes: RouteSpec[]): Router {
  const router = Router();
  for (const route of routes) {
    router[route.method](route.path, async (req, res) => {
      const issues: FieldIssue[] = [];
      const input = {
        params: parsePart(route.params, req.params, "path", issues),
        query: parsePart(route.query, req.query, "query", issues),
        body: parsePart(route.body, req.body, "body", issues),
        headers: parsePart(route.headers, req.headers, "header", issues),
      };
      if (issues.length) throw new ValidationError(issues);
      res.locals.route = route.path;
      const result = await route.handler(input as RouteInput<unknown, unknown, unknown, unknown>, { req, res });
      if (result.headers) res.set(result.headers);
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    });
  }
  return router;
}

// --- OpenAPI 3.1 ---------------------------------------------------------------------------

const problemSchema = {
  type: "object",
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
