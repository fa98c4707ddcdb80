import { createHash } from "node:crypto";
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import getAbsoluteFSPath from "swagger-ui-dist/absolute-path.js";
import type { Registry } from "prom-client";
import { checkReadiness, errorHandler, notFoundHandler, problem, sendProblem, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { ApiDocument } from "./openapi.ts";
import { docsContentSecurityPolicy } from "./security-headers.ts";

export interface OpsAppDeps {
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** Reported by `/readyz` for operators; never part of the verdict (see GatewayAppDeps.readiness). */
  upstreamStates: () => Record<string, "available" | "circuit-open">;
  metrics: Registry;
  apiDocument: () => Promise<ApiDocument>;
}

// The page's one inline script; the docs content security policy allows exactly this text by its hash.
// No validator badge: it would load an image from validator.swagger.io, which the policy does not allow.
const DOCS_INIT_SCRIPT = `
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      validatorUrl: null,
      persistAuthorization: true
    });
  `;

// Asset paths are absolute so the page works at both /docs and /docs/.
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Shop API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>${DOCS_INIT_SCRIPT}</script>
</body>
</html>
`;

const DOCS_CSP = docsContentSecurityPolicy(createHash("sha256").update(DOCS_INIT_SCRIPT).digest("base64"));

/** Swagger UI's page and assets replace the API's nothing-allowed policy with one it can run under. */
const docsPolicy: RequestHandler = (_req, res, next) => {
  res.setHeader("content-security-policy", DOCS_CSP);
  next();
};

/**
 * Readiness, metrics and the API document change from one call to the next, and errors are about one
 * request: none of it may be cached. Swagger UI's page and assets may (app.ts already marks any
 * request that carried credentials no-store).
 */
const noStoreUnlessDocs: RequestHandler = (req, res, next) => {
  if (req.path !== "/docs" && !req.path.startsWith("/docs/")) res.setHeader("cache-control", "no-store");
  next();
};
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader("cache-control", "no-store");
  next();
};
const noStoreOnError: ErrorRequestHandler = (error, _req, res, next) => {
  res.setHeader("cache-control", "no-store");
  next(error);
};

/**
 * The gateway's own endpoints besides `/healthz` (readiness, metrics, API document, Swagger UI).
 * Express is fine here; the proxied API never passes through it.
 */
export function createOpsApp(deps: OpsAppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(noStoreUnlessDocs);

  app.get("/readyz", async (_req, res) => {
    const failures = await checkReadiness(deps.readiness);
    const upstreams = deps.upstreamStates();
    if (Object.keys(failures).length === 0) return void res.json({ status: "ready", service: "gateway", upstreams });
    sendProblem(res, problem(503, "NOT_READY", `dependencies not reachable: ${Object.keys(failures).join(", ")}`, { failures, upstreams }));
  });
  app.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
  app.get("/openapi.json", async (_req, res) => {
    res.json(await deps.apiDocument());
  });
  app.use("/docs", docsPolicy);
  // The stock index.html of swagger-ui-dist shows the Petstore; ours points at /openapi.json.
  app.get(["/docs", "/docs/index.html"], (_req, res) => {
    res.type("html").send(DOCS_PAGE);
  });
  app.use("/docs", express.static(getAbsoluteFSPath(), { index: false }));

  app.use(noStore, notFoundHandler());
  app.use(noStoreOnError, errorHandler(deps.logger, {}));
  return app;
}
