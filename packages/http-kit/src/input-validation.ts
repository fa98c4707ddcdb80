import type { Request } from "express";
import { z } from "zod";
import { ValidationError, type FieldIssue } from "@shop/errors";
import { assertJsonBody, assertNoBody } from "./body.ts";
import type { RouteInput, RouteSpec } from "./routes.ts";
import { unsafeTextIssues } from "./text-guard.ts";

/**
 * A route schema threw instead of reporting an issue (a refinement that assumed the input already
 * had its type). The request still answers 400 (the input is what tripped it), but the error
 * handler logs it as an error, because the schema must be fixed.
 */
export class ValidatorCrashedError extends ValidationError {
  constructor(
    issues: FieldIssue[],
    readonly crash: unknown,
  ) {
    super(issues);
  }
}

export function issuesOf(error: z.ZodError, location: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [location, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

/** Only the headers a route declares are its input; other headers are not the route's business. */
function declaredHeaders(schema: unknown, headers: Request["headers"]): Record<string, unknown> {
  if (!(schema instanceof z.ZodObject)) return {};
  return Object.fromEntries(Object.keys(schema.shape as object).flatMap((name) => (headers[name] === undefined ? [] : [[name, headers[name]]])));
}

interface PartOutcome {
  value: unknown;
  crash?: unknown;
}

/** The shared text rule first (so no schema can forget it), then the route's own schema. */
function parsePart(schema: unknown, value: unknown, guarded: unknown, location: string, issues: FieldIssue[]): PartOutcome {
  if (!schema) return { value: undefined };
  const unsafe = unsafeTextIssues(guarded, location);
  if (unsafe.length) {
    issues.push(...unsafe);
    return { value: undefined };
  }
  if (value === undefined && location === "body" && !(schema as z.ZodType).safeParse(undefined).success) {
    issues.push({ field: "body", message: "required: a JSON body" });
    return { value: undefined };
  }
  try {
    const result = (schema as z.ZodType).safeParse(value);
    if (result.success) return { value: result.data };
    issues.push(...issuesOf(result.error, location));
  } catch (crash) {
    issues.push({ field: location, message: "is not valid" });
    return { value: undefined, crash };
  }
  return { value: undefined };
}

/**
 * The route's input, validated at the edge: 415 for a body that is not JSON (400 for a body on a
 * route that takes none), then every part (path, query, body, declared headers) against the text
 * rule and the route's schemas; all issues of all parts in one 400.
 */
export function validatedInput(route: RouteSpec, req: Request): RouteInput<unknown, unknown, unknown, unknown> {
  if (route.body) assertJsonBody(req);
  else assertNoBody(req);
  const issues: FieldIssue[] = [];
  const params = parsePart(route.params, req.params, req.params, "path", issues);
  const rawQuery: unknown = req.query; // a getter that parses the query string on every read
  const query = parsePart(route.query, rawQuery, rawQuery, "query", issues);
  const body = parsePart(route.body, req.body, req.body, "body", issues);
  const headers = parsePart(route.headers, req.headers, declaredHeaders(route.headers, req.headers), "header", issues);
  if (issues.length) {
    const crash = [params, query, body, headers].find((part) => part.crash !== undefined)?.crash;
    throw crash === undefined ? new ValidationError(issues) : new ValidatorCrashedError(issues, crash);
  }
  // Each part is its schema's output; RouteSpec's erased generics cannot say which.
  return { params: params.value, query: query.value, body: body.value, headers: headers.value } as RouteInput<unknown, unknown, unknown, unknown>;
}
