import type { Express } from "express";
import { createServiceApp, type ReadinessCheck } from "@shop/http-kit";
import type { Logger } from "@shop/logging";
import type { WalletService } from "./domain/wallet-service.ts";
import { walletRoutes } from "./http/routes.ts";

export interface WalletAppDeps {
  wallet: WalletService;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
}

export function createApp(deps: WalletAppDeps): Express {
  return createServiceApp({
    service: "wallet",
    logger: deps.logger,
    routes: walletRoutes(deps.wallet),
    openApi: { title: "Wallet", version: "1.0.0" },
    readiness: deps.readiness,
  });
}
