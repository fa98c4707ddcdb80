import type { Express } from "express";
import type { Registry } from "prom-client";
import type { CallerAuthenticator } from "@shop/auth";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { CatalogService } from "./domain/catalog-service.ts";
import { catalogErrorStatuses } from "./http/error-statuses.ts";
import { internalRoutes } from "./http/internal-routes.ts";
import { catalogRoutes } from "./http/routes.ts";

export interface CatalogAppDeps {
  /** Checks callers: every route but public reads needs a user token or a service credential. */
  auth: CallerAuthenticator;
  catalog: CatalogService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
  /** Where the service's own metrics are registered (the saga consumer's gauges); /metrics serves it. */
  metrics?: Registry;
}

export function createApp(deps: CatalogAppDeps): Express {
  return createServiceApp({
    service: "catalog",
    logger: deps.logger,
    auth: deps.auth,
    routes: catalogRoutes(deps.catalog),
    internalRoutes: internalRoutes(deps.catalog),
    openApi: { title: "Catalog", version: "1.0.0" },
    readiness: deps.readiness,
    metrics: deps.metrics,
    errorStatuses: catalogErrorStatuses,
  });
}
