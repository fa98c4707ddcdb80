import type { Express } from "express";
import type { Registry } from "prom-client";
import type { CallerAuthenticator } from "@shop/auth";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { PaymentService } from "./domain/payment-service.ts";
import { paymentRoutes } from "./http/routes.ts";

export interface PaymentAppDeps {
  /** Checks callers: every route but public reads needs a user token or a service credential. */
  auth: CallerAuthenticator;
  payments: PaymentService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
  /** Where the service's own metrics are registered (the saga consumer's gauges); /metrics serves it. */
  metrics?: Registry;
}

export function createApp(deps: PaymentAppDeps): Express {
  return createServiceApp({
    service: "payment",
    logger: deps.logger,
    auth: deps.auth,
    routes: paymentRoutes(deps.payments),
    openApi: { title: "Payments", version: "1.0.0" },
    readiness: deps.readiness,
    metrics: deps.metrics,
  });
}
