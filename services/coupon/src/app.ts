import type { Express } from "express";
import type { CallerAuthenticator } from "@shop/auth";
import type { Registry } from "prom-client";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { CampaignService } from "./domain/campaign-service.ts";
import { couponErrorStatuses } from "./http/error-statuses.ts";
import type { IssueService } from "./domain/issue-service.ts";
import type { ReservationService } from "./domain/reservation-service.ts";
import { internalCouponRoutes } from "./http/internal-routes.ts";
import { couponRoutes } from "./http/routes.ts";

export interface CouponAppDeps {
  /** Checks callers: every route but public reads needs a user token or a service credential. */
  auth: CallerAuthenticator;
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
    auth: deps.auth,
    routes: couponRoutes(deps),
    openApi: { title: "Coupons", version: "1.0.0" },
    readiness: deps.readiness,
    metrics: deps.metrics,
    errorStatuses: couponErrorStatuses,
    internalRoutes: internalCouponRoutes(deps.reservations),
  });
}
