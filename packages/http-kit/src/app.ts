import express, { type Express, type RequestHandler } from "express";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { accessLogLevel } from "@shop/config";
import { runWithTrace, traceFromTraceparent, toTraceparent, type LevelWithSilent, type Logger } from "@shop/logging";
import { jsonBodyParser } from "./body.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { methodNotAllowedFallback } from "./path-matching.ts";
import { problem, sendProblem } from "./problem.ts";
import { requestIdFrom } from "./request-id.ts";
import type { CallerAuthenticator } from "@shop/auth";
import { accessGuard } from "./access.ts";
import { openApiDocument, type OpenApiInfo } from "./openapi.ts";
import { routerFor, type RouteSpec } from "./routes.ts";

export type ReadinessCheck = () => Promise<unknown>;

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  routes: RouteSpec[];
  openApi: OpenApiInfo;
  /** Dependencies that must answer for `/readyz` to be 200. */
  readiness?: Record<string, ReadinessCheck>;
  /** HTTP status per business error code, on top of the shared ones. */
  errorStatuses?: Record<string, number>;
  /** Service-to-service endpoints (`/internal/v1/...`): served like the routes, left out of the public document. */
  internalRoutes?: RouteSpec[];
  /** Checks callers' tokens and service credentials; needed as soon as one route is not public. */
  auth?: CallerAuthenticator;
  metrics?: Registry;
  /** The level of the per-request access line; by default the process's `ACCESS_LOG_LEVEL` (info). */
  accessLogLevel?: LevelWithSilent;
}

/** Probes and scrapes come every few seconds from machines: they would drown the requests people made. */
const UNLOGGED_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * One line per request once its answer is sent: method, route, status, duration, the trace and
 * request ids, and the ids the path named or the request created (an order's), so that a trace id
 * or an order id found anywhere leads to the request. Not for the probes and /metrics.
 */
export function accessLog(logger: Logger, level: LevelWithSilent): RequestHandler {
  if (level === "silent") return (_req, _res, next) => next();
  return (req, res, next) => {
    if (UNLOGGED_PATHS.has(req.path)) return next();
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
      const fields = {
        ...(res.locals.logFields as Record<string, string> | undefined),
        traceId: res.locals.traceId as string,
        requestId: res.getHeader("x-request-id"),
        method: req.method,
        route: (res.locals.route as string | undefined) ?? "unmatched",
        status: res.statusCode,
        durationMs,
      };
      logger[level](fields, "request");
    });
    next();
  };
}

/** Request id + W3C trace context: continues the caller's trace and echoes both back. */
function traceMiddleware(): RequestHandler {
  return (req, res, next) => {
    const trace = traceFromTraceparent(req.header("traceparent"));
    // Echoed and logged: only a short plain client value is kept (see request-id.ts).
    const requestId = requestIdFrom(req.headers["x-request-id"], trace.traceId);
    res.locals.traceId = trace.traceId;
    res.setHeader("x-request-id", requestId);
    res.setHeader("traceparent", toTraceparent(trace));
    runWithTrace(trace, next);
  };
}

/** The one request histogram every service and the gateway expose, so dashboards can join them. */
export function requestDurationHistogram(registry: Registry): Histogram<"service" | "method" | "route" | "status"> {
  return new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["service", "method", "route", "status"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
}

function metricsMiddleware(registry: Registry, service: string): RequestHandler {
  const duration = requestDurationHistogram(registry);
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ service, method: req.method, route: (res.locals.route as string | undefined) ?? "unmatched", status: res.statusCode }, seconds);
    });
    next();
  };
}

export async function checkReadiness(checks: Record<string, ReadinessCheck>, timeoutMs = 2000): Promise<Record<string, string>> {
  const failures: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref())]);
      } catch (error) {
        failures[name] = (error as Error).message;
      }
    }),
  );
  return failures;
}

/** An Express app with the shared edges: tracing, metrics, health, JSON, OpenAPI, problem+json. It does not listen. */
export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  const registry = options.metrics ?? new Registry();
  collectDefaultMetrics({ register: registry });
  const errorsTotal = new Counter({ name: "http_errors_total", help: "5xx answers", labelNames: ["service"], registers: [registry] });

  app.use(traceMiddleware());
  app.use(metricsMiddleware(registry, options.service));
  app.use(accessLog(options.logger, options.accessLogLevel ?? accessLogLevel()));
  app.use(jsonBodyParser());

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", service: options.service });
  });
  app.get("/readyz", async (_req, res) => {
    const failures = await checkReadiness(options.readiness ?? {});
    if (Object.keys(failures).length === 0) return void res.json({ status: "ready", service: options.service });
    sendProblem(res, problem(503, "NOT_READY", `dependencies not reachable: ${Object.keys(failures).join(", ")}`, { failures }));
  });
  app.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  const document = openApiDocument(options.openApi, options.routes, options.errorStatuses);
  app.get("/openapi.json", (_req, res) => {
    res.json(document);
  });

  const guard = accessGuard(options.auth);
  app.use(routerFor([...(options.internalRoutes ?? []), ...options.routes], guard));
  // The operational endpoints above answer other methods with 405, like the routes do.
  app.use(methodNotAllowedFallback(["/healthz", "/readyz", "/metrics", "/openapi.json"].map((path) => ({ method: "get", path }))));
  app.use(notFoundHandler());
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    res.once("finish", () => res.statusCode >= 500 && errorsTotal.inc({ service: options.service }));
    next(error);
  });
  app.use(errorHandler(options.logger, options.errorStatuses ?? {}));
  return app;
}
