import { z } from "zod";
import { NotFoundError } from "@shop/errors";
import { defineRoute, type RouteSpec } from "@shop/http-kit";
import type { OrderService } from "../domain/order-service.ts";
import { opaqueId } from "./routes.ts";

/**
 * Service-to-service endpoints: outside /api/v1 (the gateway does not route them) and outside the
 * public OpenAPI document.
 */
export function internalRoutes(orders: OrderService): RouteSpec[] {
  return [
    defineRoute({
      method: "get",
      path: "/internal/v1/orders/:orderId",
      summary: "Whether an order was placed, and its status (404: no such order)",
      tags: ["Internal"],
      // The coupon service asks before it releases a reservation whose OrderPlaced it has not seen.
      callers: ["coupon"],
      params: z.object({ orderId: opaqueId }),
      responses: { 200: { description: "The order's status" } },
      errors: ["NOT_FOUND"],
      handler: async ({ params }) => {
        const status = await orders.statusOf(params.orderId);
        if (!status) throw new NotFoundError("order", { orderId: params.orderId });
        return { status: 200, body: { orderId: params.orderId, status } };
      },
    }),
  ];
}
