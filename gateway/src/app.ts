import type { RequestListener } from "node:http";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { requestDurationHistogram, type ReadinessCheck } from "@shop/http-kit";
import { runWithTrace, toTraceparent, traceFromTraceparent, type Logger } from "@shop/logging";
import { createApiHandler, type RequestContext } from "./api-handler.ts";
import type { TokenVerifier } from "./auth.ts";
import { createDocumentProvider } from "./openapi.ts";
import { createOpsApp } from "./ops.ts";
import { writeProblem } from "./problem-response.ts";
import type { UpstreamProxy } from "./proxy.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { UpstreamName } from "./routing.ts";

export interface GatewayAppDeps {
  logger: Logger;
  /** Enabled upstreams only. */
  upstreams: ReadonlyMap<UpstreamName, UpstreamProxy>;
  verifyToken: TokenVerifier;
  /** Absent when rate limiting is switched off. */
  rateLimiter?: RateLimiter;
  /** Dependencies besides the upstreams (whose /healthz is always checked) that `/readyz` needs. */
  readiness?: Record<string, ReadinessCheck>;
  metrics?: Registry;
}

const OPS_ROUTES = new Set(["/readyz", "/metrics", "/openapi.json", "/docs"]);
const HEALTH_BODY = JSON.stringify({ status: "ok", service: "gateway" });
const HEALTH_HEADERS = { "content-type": "application/json; charset=utf-8", "content-length": String(HEALTH_BODY.length) };

function opsRouteLabel(path: string): string {
  if (OPS_ROUTES.has(path)) return path;
  return path.startsWith("/docs/") ? "/docs" : "unmatched";
}

/**
 * The gateway as a request listener (it does not listen). `/api/...` goes straight to the
 * proxy pipeline on bare node objects, because that path is the hot one; `/healthz` is a
 * constant; everything else is a small Express app. All but `/healthz` get the request id and
 * W3C trace context and are timed in the same histogram the services use.
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

  const upstreamChecks: Record<string, ReadinessCheck> = {};
  for (const [name, upstream] of deps.upstreams) upstreamChecks[name] = () => upstream.checkHealth();
  const ops = createOpsApp({
    logger: deps.logger,
    metrics: registry,
    readiness: { ...deps.readiness, ...upstreamChecks },
    apiDocument: createDocumentProvider([...deps.upstreams.values()].map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl }))),
  });
  const handleApi = createApiHandler(deps);

  return (req, res) => {
    const url = req.url!;
    const queryStart = url.indexOf("?");
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    // Liveness is polled often and proves only that the process answers: no trace, no metrics.
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, HEALTH_HEADERS);
      res.end(HEALTH_BODY);
      return;
    }
    const started = performance.now();
    const trace = traceFromTraceparent(req.headers.traceparent as string | undefined);
    const traceparent = toTraceparent(trace);
    const requestId = (req.headers["x-request-id"] as string | undefined) ?? trace.traceId;
    res.setHeader("x-request-id", requestId);
    res.setHeader("traceparent", traceparent);
    const context: RequestContext = { path, traceId: trace.traceId, traceparent, requestId, route: "unmatched" };
    res.once("finish", () => {
      duration.observe({ service: "gateway", method: req.method, route: context.route, status: res.statusCode }, (performance.now() - started) / 1000);
    });

    runWithTrace(trace, () => {
      if (path.startsWith("/api/")) {
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
