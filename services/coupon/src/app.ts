import type { Express } from "express";
import type { Registry } from "prom-client";
import { createServiceApp, routerFor, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { CampaignService } from "./domain/campaign-service.ts";
import { couponErrorStatuses } from "./domain/errors.ts";
import type { IssueService } from "./domain/issue-service.ts";
import type { ReservationService } from "./domain/reservation-service.ts";
import { internalCouponRoutes } from "./http/internal-routes.ts";
import { couponRoutes } from "./http/routes.ts";

export interface CouponAppDeps {
  campaigns: CampaignService;
  issuing: IssueService;
  reservations: ReservationService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
  /** Where the service's own metrics are registered; /metrics serves it. */
  metrics?: Registry;
}

export function createApp(deps: CouponAppDeps): Express {
  return createServiceApp({
    service: "coupon",
    logger: deps.logger,
    routes: couponRoutes(deps),
    openApi: { title: "Coupons", version: "1.0.0" },
    readiness: deps.readiness,
    metrics: deps.metrics,
    errorStatuses: couponErrorStatuses,
    // Validated like the public routes, but kept out of the public OpenAPI document.
    extraRouters: [routerFor(internalCouponRoutes(deps.reservations))],
  });
}
