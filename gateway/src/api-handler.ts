import type { IncomingMessage, ServerResponse } from "node:http";
import type { FieldIssue } from "@shop/errors";
import { AuthenticationError, IdentityProviderUnavailableError, type Identity, type TokenVerifier } from "@shop/auth";
import type { ClientRateLimiter } from "./client-rate-limit.ts";
import { API_METHODS, type CorsPolicy } from "./cors.ts";
import { writeProblem, writeRefusal, type Refusal } from "./problem-response.ts";
import { relayKept, type AnswerKeeper, type UpstreamProxy } from "./proxy.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { ResponseCache } from "./response-cache.ts";
import { BodyTooLargeError, acceptsBody, bodyRefusal, hasBody, readBody } from "./request-checks.ts";
import { isValidUserId, matchRoute, type RouteMatch, type UpstreamName } from "./routing.ts";

/** What the gateway knows about one request; `route` is filled in for the metrics. */
export interface RequestContext {
  /** The request target without its query string. */
  path: string;
  traceId: string;
  traceparent: string;
  requestId: string;
  route: string;
  /** The caller's user id once the token is checked, and the order the path names (for the access log). */
  userId?: string;
  orderId?: string;
}

/** Which limiter refused a request: a user's writes (Redis) or a client address without a token (in process). */
export type RateLimiterKind = "user" | "client";

export interface ApiHandlerDeps {
  /** Enabled upstreams only; a route to any other answers 503. */
  upstreams: ReadonlyMap<UpstreamName, UpstreamProxy>;
  verifyToken: TokenVerifier;
  /** Per-user write limiter; absent when rate limiting is switched off. */
  rateLimiter?: RateLimiter;
  /** Per-address limiter for requests without a valid token; absent when rate limiting is switched off. */
  clientRateLimiter?: ClientRateLimiter;
  cors: CorsPolicy;
  /** Largest request body read and forwarded. */
  bodyLimitBytes: number;
  /** Told of every 429 (the rejections counter). */
  onRateLimited?: (limiter: RateLimiterKind) => void;
  /** Anonymous public reads the services mark cacheable, kept for a moment (response-cache.ts); absent: none. */
  responseCache?: ResponseCache;
  /** Told of every read that could be served from the response cache, and whether it was. */
  onCacheLookup?: (outcome: "hit" | "miss") => void;
}

const SUPPORTED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const USER_ID_RULE = "must be 1-64 characters of A-Z, a-z, 0-9, _ or -";
const CHALLENGE = { "www-authenticate": "Bearer" };
const INVALID_TOKEN_CHALLENGE = { "www-authenticate": 'Bearer error="invalid_token"' };
const METHOD_NOT_ALLOWED = (method: string): Refusal => ({
  status: 405,
  code: "METHOD_NOT_ALLOWED",
  detail: `${method} is not supported by this API`,
  headers: { allow: `${API_METHODS}, OPTIONS` },
});
const IDENTITY_PROVIDER_DOWN: Refusal = {
  status: 503,
  code: "SERVICE_UNAVAILABLE",
  detail: "the token cannot be checked right now; try again shortly",
  headers: { "retry-after": "5" },
};

type Identification = { identity?: Identity; refusal?: Refusal };

/**
 * Who is calling. A route that is not public needs a valid token (401 otherwise, 503 when the
 * identity provider's keys cannot be fetched). On a public route a token is optional: a valid one
 * makes the caller a user (exempt from the anonymous limit), anything else leaves it anonymous.
 */
async function identify(verifyToken: TokenVerifier, authorization: string | undefined, match: RouteMatch): Promise<Identification> {
  if (match.access === "public" && authorization === undefined) return {};
  try {
    return { identity: await verifyToken(authorization) };
  } catch (error) {
    if (match.access === "public") return {};
    if (error instanceof IdentityProviderUnavailableError) return { refusal: IDENTITY_PROVIDER_DOWN };
    if (!(error instanceof AuthenticationError)) throw error;
    return { refusal: { status: 401, code: "UNAUTHORIZED", detail: error.message, headers: authorization ? INVALID_TOKEN_CHALLENGE : CHALLENGE } };
  }
}

/** Role and path-user checks (403, or 400 for a malformed user id in the path). */
function accessRefusal(match: RouteMatch, identity: Identity | undefined): Refusal | undefined {
  if (match.access === "admin" && !identity!.isAdmin) return { status: 403, code: "FORBIDDEN", detail: "this endpoint requires the admin role" };
  if (match.access !== "user") return undefined;
  const userId = match.userId!;
  if (!isValidUserId(userId)) {
    const errors: FieldIssue[] = [{ field: "path.userId", message: USER_ID_RULE }];
    return { status: 400, code: "VALIDATION_FAILED", detail: `path.userId: ${USER_ID_RULE}`, extensions: { errors } };
  }
  if (userId !== identity!.userId && !identity!.isAdmin) return { status: 403, code: "FORBIDDEN", detail: "a user may only act on their own resources" };
  return undefined;
}

const rateLimited = (detail: string, retryAfterSeconds: number): Refusal => ({
  status: 429,
  code: "RATE_LIMITED",
  detail,
  headers: { "retry-after": String(retryAfterSeconds) },
});

/** Users are limited on writes (admins not at all); callers without a valid token per client address on everything. */
async function rateRefusal(deps: ApiHandlerDeps, req: IncomingMessage, identity: Identity | undefined): Promise<Refusal | undefined> {
  if (!identity) {
    const decision = deps.clientRateLimiter?.(req.socket.remoteAddress ?? "unknown");
    if (!decision || decision.allowed) return undefined;
    deps.onRateLimited?.("client");
    return rateLimited("too many requests from this client; slow down or sign in", decision.retryAfterSeconds);
  }
  if (!deps.rateLimiter || identity.isAdmin || !WRITE_METHODS.has(req.method!)) return undefined;
  const decision = await deps.rateLimiter(identity.userId);
  if (decision.allowed) return undefined;
  deps.onRateLimited?.("user");
  return rateLimited("too many write requests; slow down", decision.retryAfterSeconds);
}

/**
 * Whether the cache may answer this request: an anonymous, unconditional GET of a public route
 * that does not ask for a fresh answer. Whoever sends a token gets the upstream's answer (and
 * `no-store`), as before.
 */
function servableFromCache(req: IncomingMessage, match: RouteMatch): boolean {
  const { headers } = req;
  if (req.method !== "GET" || match.access !== "public" || headers.authorization !== undefined) return false;
  if (headers["if-none-match"] !== undefined || headers["if-modified-since"] !== undefined || headers.range !== undefined) return false;
  // A browser's reload asks `max-age=0`: no kept answer is young enough for it.
  const asked = `${headers["cache-control"] ?? ""},${headers.pragma ?? ""}`.toLowerCase().replace(/\s+/g, "");
  return !asked.includes("no-cache") && !asked.includes("no-store") && !/(^|,)max-age=0(,|$)/.test(asked);
}

const EMPTY_BODY = Buffer.alloc(0);

type BodyReading = { body?: Buffer; refusal?: Refusal; aborted?: true };

/** The request body, read whole and bounded, so that it can be forwarded as one framed message (413/415 otherwise). */
async function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<BodyReading> {
  // Any other method arrives here without a body: the gateway refused it otherwise (request-checks.ts).
  if (!acceptsBody(req.method!)) return {};
  const refusal = bodyRefusal(req, limitBytes);
  if (refusal) return { refusal };
  if (!hasBody(req)) return { body: EMPTY_BODY };
  try {
    return { body: await readBody(req, limitBytes) };
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return { refusal: { status: 413, code: "PAYLOAD_TOO_LARGE", detail: `the request body is larger than ${limitBytes} bytes`, closeConnection: true } };
    }
    return { aborted: true };
  }
}

/**
 * `/api/...` on bare node objects, in the order: CORS preflight (any `OPTIONS`, no token), method
 * (405), route (404), token (401), role and path user (403, 400), upstream enabled (503), rate
 * (429), body (413, 415), then the proxy. Nothing reaches an upstream before every check passed
 * and the whole body is in hand.
 */
export function createApiHandler(deps: ApiHandlerDeps): (req: IncomingMessage, res: ServerResponse, context: RequestContext) => Promise<void> {
  return async (req, res, context) => {
    const { path, traceId } = context;
    const method = req.method!;
    deps.cors.decorate(req, res);
    if (method === "OPTIONS") return deps.cors.answerOptions(req, res, traceId);
    if (!SUPPORTED_METHODS.has(method)) return writeRefusal(res, traceId, METHOD_NOT_ALLOWED(method));
    const match = matchRoute(method, path);
    if (!match) return writeProblem(res, traceId, 404, "NOT_FOUND", `no route for ${method} ${path}`);
    context.route = match.route;
    if (match.route.endsWith("/:orderId")) context.orderId = path.split("/").filter(Boolean).at(-1);

    const { identity, refusal: authRefusal } = await identify(deps.verifyToken, req.headers.authorization, match);
    context.userId = identity?.userId;
    const refusal = authRefusal ?? accessRefusal(match, identity);
    if (refusal) return writeRefusal(res, traceId, refusal);

    const upstream = deps.upstreams.get(match.upstream);
    if (!upstream) return writeProblem(res, traceId, 503, "SERVICE_UNAVAILABLE", `the ${match.upstream} service is not available in this deployment`);

    const limited = await rateRefusal(deps, req, identity);
    if (limited) return writeRefusal(res, traceId, limited);

    const reading = await readRequestBody(req, deps.bodyLimitBytes);
    if (reading.aborted) return void res.destroy();
    if (reading.refusal) return writeRefusal(res, traceId, reading.refusal);

    const cache = deps.responseCache?.enabled ? deps.responseCache : undefined;
    let keep: AnswerKeeper | undefined;
    if (cache && servableFromCache(req, match)) {
      const key = req.url!;
      const kept = cache.lookup(key);
      deps.onCacheLookup?.(kept ? "hit" : "miss");
      if (kept) return relayKept(res, kept.headers, kept.body, cache.ageSecondsOf(kept));
      keep = {
        wants: (status, headers) => cache.mayStore(status, headers),
        kept: (status, headers, body) => void cache.store(key, match.upstream, status, headers, body),
      };
    }
    // A write that went through may have changed what its service answers (other gateway instances catch up within their TTL).
    if (cache && WRITE_METHODS.has(method)) res.once("finish", () => res.statusCode < 400 && cache.forget(match.upstream));

    upstream.forward(req, res, { traceId, traceparent: context.traceparent, requestId: context.requestId, body: reading.body, keep });
  };
}
