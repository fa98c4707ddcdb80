import { Router, type Request, type RequestHandler, type Response } from "express";
import type { z } from "zod";
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
  /** A realistic answer for the document and the mock; the document generator checks it against `schema`. */
  example?: unknown;
  /** Response headers a client may use (OpenAPI header objects by name). */
  headers?: Record<string, { description: string; required?: boolean; schema: Record<string, unknown>; example?: unknown }>;
}

/** An error answer as the document shows it: the detail (and extensions) the code really sends. */
export interface ProblemExample {
  summary?: string;
  detail: string;
  extensions?: Record<string, unknown>;
}

/** One definition drives validation at the edge, the handler's input types and the OpenAPI document. */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown, H = unknown> {
  method: Method;
  /** The operation's name in the OpenAPI document (and in generated clients); unique across the API. */
  operationId?: string;
  /** Express path syntax, e.g. `/api/v1/users/:userId/balance`. */
  path: string;
  summary: string;
  /** Longer explanation for the document (Markdown). */
  description?: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Header names in lower case. */
  headers?: H;
  /** A realistic request body for the document and the mock; checked against `body`. */
  bodyExample?: B extends AnySchema ? z.input<B> : unknown;
  /** An invalid request whose real validation issues become the document's VALIDATION_FAILED example. */
  invalidExample?: { params?: unknown; query?: unknown; body?: unknown; headers?: unknown };
  responses: Record<number, ResponseSpec>;
  /** Business error codes this route can answer with, for the document (shared ones are added there). */
  errors?: string[];
  /** Example details of error codes where the shared example says too little. */
  problemExamples?: Record<string, ProblemExample>;
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
    // Named before the caller check and the validation, so that their 401/403/400 answers are
    // labelled with the route they were for, not `unmatched`.
    const nameRoute: RequestHandler = (req, res, next) => {
      res.locals.route = route.path;
      res.locals.logFields = { ...req.params };
      next();
    };
    router[route.method](route.path, nameRoute, ...(checkCaller ? [checkCaller] : []), async (req: Request, res: Response) => {
      const input = validatedInput(route, req);
      const result = await route.handler(input, { req, res });
      // An id the request created (an order's) goes into its access log line, as the path's ids do.
      const created = (result.body as { orderId?: unknown } | undefined)?.orderId;
      if (typeof created === "string") res.locals.logFields = { ...(res.locals.logFields as object), orderId: created };
      if (result.headers) res.set(result.headers);
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    });
  }
  router.use(methodNotAllowedFallback(routes));
  return router;
}
