import { z } from "zod";
import { defineRoute, type RouteSpec } from "@shop/http-kit";
import type { CatalogService } from "../domain/catalog-service.ts";
import { MAX_QUOTE_PRODUCTS } from "../domain/model.ts";
import { productId, toBody } from "./routes.ts";

/**
 * Service-to-service endpoints: outside /api/v1 (the gateway does not route them) and outside the
 * public OpenAPI document.
 */
export function internalRoutes(catalog: CatalogService): RouteSpec[] {
  return [
    defineRoute({
      method: "post",
      path: "/internal/v1/products/quote",
      summary: "Authoritative names, prices and stock for an order (read from PostgreSQL)",
      tags: ["Internal"],
      // Placement prices an order here; nothing else needs authoritative prices.
      callers: ["order"],
      body: z.strictObject({
        productIds: z
          .array(productId)
          .min(1)
          .max(MAX_QUOTE_PRODUCTS)
          .refine((ids) => new Set(ids).size === ids.length, "must not repeat an id"),
      }),
      responses: { 200: { description: "The products, in the order asked" } },
      errors: ["VALIDATION_FAILED", "NOT_FOUND"],
      handler: async ({ body }) => ({ status: 200, body: { items: (await catalog.quote(body.productIds)).map(toBody) } }),
    }),
  ];
}
