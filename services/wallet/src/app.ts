import type { Express } from "express";
import type { Registry } from "prom-client";
import type { CallerAuthenticator } from "@shop/auth";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { WalletService } from "./domain/wallet-service.ts";
import { walletRoutes } from "./http/routes.ts";

export interface WalletAppDeps {
  /** Checks callers: every route but public reads needs a user token or a service credential. */
  auth: CallerAuthenticator;
  wallet: WalletService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
  /** Where the service's own metrics are registered (the saga consumer's gauges); /metrics serves it. */
  metrics?: Registry;
}

export function createApp(deps: WalletAppDeps): Express {
  return createServiceApp({
    service: "wallet",
    logger: deps.logger,
    auth: deps.auth,
    routes: walletRoutes(deps.wallet),
    openApi: { title: "Wallet", version: "1.0.0" },
    readiness: deps.readiness,
    metrics: deps.metrics,
  });
}
