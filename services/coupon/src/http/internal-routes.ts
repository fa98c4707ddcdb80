import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import { LIMITS } from "../domain/model.ts";
import type { ReservationService } from "../domain/reservation-service.ts";

/**
 * Service-to-service endpoints (the order service calls them, guarded by its circuit breaker).
 * Not under /api/v1: the gateway does not route them, and they are not in the public document.
 */
export function internalCouponRoutes(reservations: ReservationService): RouteSpec[] {
  return [
    defineRoute({
      method: "post",
      path: "/internal/v1/user-coupons/:userCouponId/reservations",
      summary: "Hold a user coupon for an order and price it (idempotent per orderId)",
      tags: ["Internal"],
      // Only placement reserves a coupon for an order.
      callers: ["order"],
      params: z.object({ userCouponId: z.uuid("must be a user coupon id (UUID)") }),
      body: z.strictObject({
        userId: schemas.userId,
        orderId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, "must be 1-128 characters of A-Z, a-z, 0-9, _ . : or -"),
        orderAmount: schemas.positiveInt(LIMITS.maxOrderAmount).describe("The order's subtotal in KRW"),
      }),
      responses: {
        200: {
          description: "Reserved (or the same reservation again on a retry)",
          schema: z.object({
            userCouponId: z.string(),
            couponId: z.string(),
            orderId: z.string(),
            discountAmount: z.number().int(),
            status: z.literal("RESERVED"),
          }),
        },
      },
      errors: ["VALIDATION_FAILED", "NOT_FOUND", "COUPON_NOT_USABLE"],
      handler: async ({ params, body }) => ({ status: 200, body: await reservations.reserve({ userCouponId: params.userCouponId, ...body }) }),
    }),
  ];
}
