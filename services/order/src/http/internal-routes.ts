import { z } from "zod";
import { NotFoundError } from "@shop/errors";
import { defineRoute, type RouteSpec } from "@shop/http-kit";
import type { OrderService } from "../domain/order-service.ts";

/**
 * Any order id the coupon service may hold a reservation for (its reservation route's shape): an
 * id that is no order of this service answers 404, never 400, so the asking sweeper can settle it.
 */
const reservedOrderId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, "must be 1-128 characters of A-Z, a-z, 0-9, _ . : or -");

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
      params: z.object({ orderId: reservedOrderId }),
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
