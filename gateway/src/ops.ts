import express, { type Express } from "express";
import getAbsoluteFSPath from "swagger-ui-dist/absolute-path.js";
import type { Registry } from "prom-client";
import { checkReadiness, errorHandler, notFoundHandler, problem, sendProblem, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { ApiDocument } from "./openapi.ts";

export interface OpsAppDeps {
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  metrics: Registry;
  apiDocument: () => Promise<ApiDocument>;
}

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
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      persistAuthorization: true
    });
  </script>
</body>
</html>
`;

/**
 * The gateway's own endpoints besides `/healthz` (readiness, metrics, API document, Swagger UI).
 * Express is fine here; the proxied API never passes through it.
 */
export function createOpsApp(deps: OpsAppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/readyz", async (_req, res) => {
    const failures = await checkReadiness(deps.readiness);
    if (Object.keys(failures).length === 0) return void res.json({ status: "ready", service: "gateway" });
    sendProblem(res, problem(503, "NOT_READY", `dependencies not reachable: ${Object.keys(failures).join(", ")}`, { failures }));
  });
  app.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
  app.get("/openapi.json", async (_req, res) => {
    res.json(await deps.apiDocument());
  });
  // The stock index.html of swagger-ui-dist shows the Petstore; ours points at /openapi.json.
  app.get(["/docs", "/docs/index.html"], (_req, res) => {
    res.type("html").send(DOCS_PAGE);
  });
  app.use("/docs", express.static(getAbsoluteFSPath(), { index: false }));

  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger, {}));
  return app;
}
