import type { Express } from "express";
import type { Registry } from "prom-client";
import type { CallerAuthenticator } from "@shop/auth";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { OrderService } from "./domain/order-service.ts";
import { internalRoutes } from "./http/internal-routes.ts";
import { orderErrorStatuses } from "./http/error-statuses.ts";
import { orderRoutes } from "./http/routes.ts";

export interface OrderAppDeps {
  /** Checks callers: every route but public reads needs a user token or a service credential. */
  auth: CallerAuthenticator;
  orders: OrderService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
  /** Where the service's own metrics are registered (the saga consumer's gauges); /metrics serves it. */
  metrics?: Registry;
}

export function createApp(deps: OrderAppDeps): Express {
  return createServiceApp({
    service: "order",
    logger: deps.logger,
    auth: deps.auth,
    routes: orderRoutes(deps.orders),
    internalRoutes: internalRoutes(deps.orders),
    openApi: { title: "Orders", version: "1.0.0" },
    readiness: deps.readiness,
    metrics: deps.metrics,
    errorStatuses: orderErrorStatuses,
  });
}
