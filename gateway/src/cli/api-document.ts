// The public API document, built from the services' route definitions (their zod schemas and
// examples) the way the gateway merges what the running services serve. Build-time only: the
// running gateway never loads the services' code.
import { openApiDocument } from "@shop/http-kit";
import { catalogErrorStatuses } from "../../../services/catalog/src/http/error-statuses.ts";
import { catalogRoutes } from "../../../services/catalog/src/http/routes.ts";
import { couponErrorStatuses } from "../../../services/coupon/src/http/error-statuses.ts";
import { couponRoutes } from "../../../services/coupon/src/http/routes.ts";
import { orderErrorStatuses } from "../../../services/order/src/http/error-statuses.ts";
import { orderRoutes } from "../../../services/order/src/http/routes.ts";
import { paymentRoutes } from "../../../services/payment/src/http/routes.ts";
import { walletRoutes } from "../../../services/wallet/src/http/routes.ts";
import { mergeDocuments, type ApiDocument } from "../openapi.ts";

/** The route tables need their services only to handle requests, which a document never does. */
const noService = undefined as never;

export function publicApiDocument(): Omit<ApiDocument, "x-missing-services"> {
  const info = (title: string) => ({ title, version: "1.0.0" });
  const documents = [
    { name: "wallet", document: openApiDocument(info("Wallet"), walletRoutes(noService)) },
    { name: "catalog", document: openApiDocument(info("Catalog"), catalogRoutes(noService), catalogErrorStatuses) },
    {
      name: "coupon",
      document: openApiDocument(info("Coupons"), couponRoutes({ campaigns: noService, issuing: noService, reservations: noService }), couponErrorStatuses),
    },
    { name: "order", document: openApiDocument(info("Orders"), orderRoutes(noService), orderErrorStatuses) },
    { name: "payment", document: openApiDocument(info("Payments"), paymentRoutes(noService)) },
  ];
  // Which services answered matters only to a running gateway.
  const { "x-missing-services": _missing, ...document } = mergeDocuments(documents, []);
  return document;
}
