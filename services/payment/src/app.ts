import type { Express } from "express";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { PaymentService } from "./domain/payment-service.ts";
import { paymentRoutes } from "./http/routes.ts";

export interface PaymentAppDeps {
  payments: PaymentService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
}

export function createApp(deps: PaymentAppDeps): Express {
  return createServiceApp({
    service: "payment",
    logger: deps.logger,
    routes: paymentRoutes(deps.payments),
    openApi: { title: "Payments", version: "1.0.0" },
    readiness: deps.readiness,
  });
}
