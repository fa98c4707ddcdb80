import type { IncomingMessage, ServerResponse } from "node:http";
import type { FieldIssue } from "@shop/errors";
import type { AuthenticationError, Identity, TokenVerifier } from "./auth.ts";
import { writeProblem } from "./problem-response.ts";
import type { UpstreamProxy } from "./proxy.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { isValidUserId, matchRoute, type UpstreamName } from "./routing.ts";

/** What the gateway knows about one request; `route` is filled in for the metrics. */
export interface RequestContext {
  /** The request target without its query string. */
  path: string;
  traceId: string;
  traceparent: string;
  requestId: string;
  route: string;
}

export interface ApiHandlerDeps {
  /** Enabled upstreams only; a route to any other answers 503. */
  upstreams: ReadonlyMap<UpstreamName, UpstreamProxy>;
  verifyToken: TokenVerifier;
  /** Absent when rate limiting is switched off. */
  rateLimiter?: RateLimiter;
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const USER_ID_RULE = "must be 1-64 characters of A-Z, a-z, 0-9, _ or -";
const CHALLENGE = { "www-authenticate": "Bearer" };
const INVALID_TOKEN_CHALLENGE = { "www-authenticate": 'Bearer error="invalid_token"' };

/**
 * `/api/...` on bare node objects, in the order: route (404), token (401), role and path user
 * (403, 400), upstream enabled (503), write rate (429), then the proxy.
 */
export function createApiHandler(deps: ApiHandlerDeps): (req: IncomingMessage, res: ServerResponse, context: RequestContext) => Promise<void> {
  return async (req, res, context) => {
    const { path } = context;
    const method = req.method!;
    const match = matchRoute(method, path);
    if (!match) return writeProblem(res, context.traceId, 404, "NOT_FOUND", `no route for ${method} ${path}`);
    context.route = match.route;

    let identity: Identity | undefined;
    if (match.access !== "public") {
      try {
        identity = await deps.verifyToken(req.headers.authorization);
      } catch (error) {
        // The verifier turns every failure into an AuthenticationError with a client-safe message.
        return writeProblem(res, context.traceId, 401, "UNAUTHORIZED", (error as AuthenticationError).message, { headers: req.headers.authorization ? INVALID_TOKEN_CHALLENGE : CHALLENGE });
      }
      if (match.access === "admin" && !identity.isAdmin) {
        return writeProblem(res, context.traceId, 403, "FORBIDDEN", "this endpoint requires the admin role");
      }
      if (match.access === "user") {
        const userId = match.userId!;
        if (!isValidUserId(userId)) {
          const errors: FieldIssue[] = [{ field: "path.userId", message: USER_ID_RULE }];
          return writeProblem(res, context.traceId, 400, "VALIDATION_FAILED", `path.userId: ${USER_ID_RULE}`, { extensions: { errors } });
        }
        if (userId !== identity.userId && !identity.isAdmin) {
          return writeProblem(res, context.traceId, 403, "FORBIDDEN", "a user may only act on their own resources");
        }
      }
    }

    const upstream = deps.upstreams.get(match.upstream);
    if (!upstream) return writeProblem(res, context.traceId, 503, "SERVICE_UNAVAILABLE", `the ${match.upstream} service is not available in this deployment`);

    if (deps.rateLimiter && identity && !identity.isAdmin && WRITE_METHODS.has(method)) {
      const decision = await deps.rateLimiter(identity.userId);
      if (!decision.allowed) {
        return writeProblem(res, context.traceId, 429, "RATE_LIMITED", "too many write requests; slow down", {
          headers: { "retry-after": String(decision.retryAfterSeconds) },
        });
      }
    }

    upstream.forward(req, res, { traceId: context.traceId, traceparent: context.traceparent, requestId: context.requestId, identity });
  };
}
