import type { Express } from "express";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { CatalogService } from "./domain/catalog-service.ts";
import { catalogErrorStatuses } from "./domain/errors.ts";
import { internalRouter } from "./http/internal-routes.ts";
import { catalogRoutes } from "./http/routes.ts";

export interface CatalogAppDeps {
  catalog: CatalogService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
}

export function createApp(deps: CatalogAppDeps): Express {
  return createServiceApp({
    service: "catalog",
    logger: deps.logger,
    routes: catalogRoutes(deps.catalog),
    extraRouters: [internalRouter(deps.catalog)],
    openApi: { title: "Catalog", version: "1.0.0" },
    readiness: deps.readiness,
    errorStatuses: catalogErrorStatuses,
  });
}
