import type { RequestListener } from "node:http";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { requestDurationHistogram, requestIdFrom, type ReadinessCheck } from "@shop/http-kit";
import { accessLogLevel } from "@shop/config";
import { runWithTrace, toTraceparent, traceFromTraceparent, type LevelWithSilent, type Logger } from "@shop/logging";
import type { ResponseCache } from "./response-cache.ts";
import { createApiHandler, type RequestContext } from "./api-handler.ts";
import type { TokenVerifier } from "@shop/auth";
import type { ClientRateLimiter } from "./client-rate-limit.ts";
import { createCorsPolicy, type CorsOptions } from "./cors.ts";
import { createDocumentProvider } from "./openapi.ts";
import { createOpsApp } from "./ops.ts";
import { writeProblem, writeRefusal } from "./problem-response.ts";
import type { UpstreamProxy } from "./proxy.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { messageRefusal } from "./request-checks.ts";
import { matchRoute, methodRefusal, type UpstreamName } from "./routing.ts";
import { SECURITY_HEADERS, setSecurityHeaders } from "./security-headers.ts";

export interface GatewayAppDeps {
  logger: Logger;
  /** Enabled upstreams only. */
  upstreams: ReadonlyMap<UpstreamName, UpstreamProxy>;
  verifyToken: TokenVerifier;
  /** Per-user write limiter; absent when rate limiting is switched off. */
  rateLimiter?: RateLimiter;
  /** Per-address limiter for requests without a valid token; absent when rate limiting is switched off. */
  clientRateLimiter?: ClientRateLimiter;
  /** Browser origins allowed to call the API; none by default. */
  cors?: CorsOptions;
  /** Largest request body the gateway reads and forwards (default 64 KiB). */
  requestBodyLimitBytes?: number;
  /** Anonymous public reads kept for a moment (response-cache.ts); none by default. */
  responseCache?: ResponseCache;
  /**
   * The gateway's own dependencies that `/readyz` needs. Upstreams are deliberately not among them:
   * a service that is down is answered per route (502, then 503 from its breaker), and making every
   * gateway replica unready for it would take the whole API down with that one service.
   */
  readiness?: Record<string, ReadinessCheck>;
  metrics?: Registry;
  /** The level of the per-request access line; by default `ACCESS_LOG_LEVEL` (info). */
  accessLogLevel?: LevelWithSilent;
}

const OPS_ROUTES = new Set(["/readyz", "/metrics", "/openapi.json", "/docs"]);
const HEALTH_BODY = JSON.stringify({ status: "ok", service: "gateway" });
const HEALTH_HEADERS = {
  ...SECURITY_HEADERS,
  "content-type": "application/json; charset=utf-8",
  "content-length": String(HEALTH_BODY.length),
  "cache-control": "no-store",
};
const NO_CORS: CorsOptions = { allowedOrigins: new Set(), maxAgeSeconds: 0 };

function opsRouteLabel(path: string): string {
  if (OPS_ROUTES.has(path)) return path;
  return path.startsWith("/docs/") ? "/docs" : "unmatched";
}

/**
 * The gateway as a request listener (it does not listen). Every request is first checked as a
 * message (target length, one Authorization header, framing; see request-checks.ts). Then
 * `/api/...` goes straight to the proxy pipeline on bare node objects, because that path is the hot
 * one; `/healthz` is a constant; everything else is a small Express app. Every answer carries the
 * security headers; all but `/healthz` get the request id and W3C trace context and are timed in
 * the same histogram the services use.
 */
export function createApp(deps: GatewayAppDeps): RequestListener {
  const registry = deps.metrics ?? new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = requestDurationHistogram(registry);
  new Gauge({
    name: "gateway_upstream_circuit_open",
    help: "1 while the circuit breaker of an upstream is open",
    labelNames: ["upstream"],
    registers: [registry],
    collect() {
      for (const [name, upstream] of deps.upstreams) this.set({ upstream: name }, upstream.circuitOpen ? 1 : 0);
    },
  });
  const rateLimited = new Counter({
    name: "gateway_rate_limit_rejections_total",
    help: "Requests answered 429, by limiter (user: a user's writes; client: an address without a token)",
    labelNames: ["limiter"],
    registers: [registry],
  });
  for (const limiter of ["user", "client"]) rateLimited.inc({ limiter }, 0);
  const cacheLookups = new Counter({
    name: "gateway_response_cache_lookups_total",
    help: "Anonymous public reads that the response cache could answer, by outcome (hit: answered from it; miss: sent upstream)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  for (const outcome of ["hit", "miss"]) cacheLookups.inc({ outcome }, 0);
  const accessLevel = deps.accessLogLevel ?? accessLogLevel();

  const ops = createOpsApp({
    logger: deps.logger,
    metrics: registry,
    readiness: deps.readiness ?? {},
    upstreamStates: () => Object.fromEntries([...deps.upstreams].map(([name, upstream]) => [name, upstream.circuitOpen ? "circuit-open" : "available"])),
    apiDocument: createDocumentProvider([...deps.upstreams.values()].map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl }))),
  });
  const cors = createCorsPolicy(deps.cors ?? NO_CORS);
  const handleApi = createApiHandler({
    upstreams: deps.upstreams,
    verifyToken: deps.verifyToken,
    rateLimiter: deps.rateLimiter,
    clientRateLimiter: deps.clientRateLimiter,
    cors,
    bodyLimitBytes: deps.requestBodyLimitBytes ?? 64 * 1024,
    onRateLimited: (limiter) => rateLimited.inc({ limiter }),
    responseCache: deps.responseCache,
    onCacheLookup: (outcome) => cacheLookups.inc({ outcome }),
  });

  return (req, res) => {
    const url = req.url!;
    const queryStart = url.indexOf("?");
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const refusal = messageRefusal(req);
    // Liveness is polled often and proves only that the process answers: no trace, no metrics.
    if (!refusal && path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, HEALTH_HEADERS);
      res.end(HEALTH_BODY);
      return;
    }
    const started = performance.now();
    const trace = traceFromTraceparent(req.headers.traceparent as string | undefined);
    const traceparent = toTraceparent(trace);
    const requestId = requestIdFrom(req.headers["x-request-id"], trace.traceId);
    setSecurityHeaders(res);
    res.setHeader("x-request-id", requestId);
    res.setHeader("traceparent", traceparent);
    // An answer to a request that carried credentials is that caller's alone: no cache may keep it.
    if (req.headers.authorization !== undefined) res.setHeader("cache-control", "no-store");
    const context: RequestContext = { path, traceId: trace.traceId, traceparent, requestId, route: "unmatched" };
    res.once("finish", () => {
      const seconds = (performance.now() - started) / 1000;
      duration.observe({ service: "gateway", method: req.method, route: context.route, status: res.statusCode }, seconds);
      // One line per request with its trace id, as the services write theirs (not for /metrics and /readyz scrapes).
      if (accessLevel !== "silent" && path !== "/metrics" && path !== "/readyz") {
        deps.logger[accessLevel](
          {
            traceId: trace.traceId,
            requestId,
            method: req.method,
            route: context.route,
            status: res.statusCode,
            durationMs: Math.round(seconds * 1e5) / 100,
            userId: context.userId,
            orderId: context.orderId,
          },
          "request",
        );
      }
    });

    runWithTrace(trace, () => {
      if (refusal) {
        writeRefusal(res, trace.traceId, refusal);
      } else if (path.startsWith("/api/")) {
        // Which methods a path has is public, so a wrong one is a 405 before any token is looked at.
        const wrongMethod = methodRefusal(req.method!, path);
        if (wrongMethod) {
          context.route = matchRoute(req.method!, path)?.route ?? "unmatched";
          cors.decorate(req, res);
          return writeRefusal(res, trace.traceId, wrongMethod);
        }
        handleApi(req, res, context).catch((error: unknown) => {
          deps.logger.error({ err: error, method: req.method, url: req.url }, "unhandled gateway error");
          writeProblem(res, trace.traceId, 500, "INTERNAL_ERROR", "an unexpected error occurred; it has been logged");
        });
      } else {
        context.route = opsRouteLabel(path);
        ops(req, res);
      }
    });
  };
}
