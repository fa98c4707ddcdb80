import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import { MAX_PAYMENTS_LISTED } from "../domain/model.ts";
import type { PaymentService } from "../domain/payment-service.ts";

const userParams = z.object({ userId: schemas.userId });

const paymentSchema = z
  .object({
    paymentId: z.string(),
    orderId: z.string(),
    amount: z.number().int().min(0).describe("KRW: the order's totalAmount"),
    status: z
      .enum(["COMPLETED", "FAILED", "CANCELLED"])
      .describe("FAILED: declined, nothing taken; CANCELLED: the order failed after the payment, the wallet refunded it"),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "Payment" });

const ORDER_ID = "5d1e8a2c-7f3b-4c9d-a6e0-2b8f4c1d9e73";

export function paymentRoutes(payments: PaymentService): RouteSpec[] {
  return [
    defineRoute({
      method: "get",
      operationId: "listPayments",
      path: "/api/v1/users/:userId/payments",
      summary: `The user's payments, newest first (at most ${MAX_PAYMENTS_LISTED})`,
      tags: ["Payments"],
      params: userParams,
      query: z.strictObject({
        orderId: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -")
          .optional()
          .describe("Only the payment of this order")
          .meta({ examples: [ORDER_ID] }),
      }),
      invalidExample: { query: { orderId: "5d1e8a2c 7f3b" } },
      responses: {
        200: {
          description: "The payments",
          schema: z.object({ items: z.array(paymentSchema) }),
          example: {
            items: [
              {
                paymentId: "e3a9c7b1-4d2f-4e8a-9b6c-1f0d2e3a4b5c",
                orderId: ORDER_ID,
                amount: 22_410,
                status: "COMPLETED",
                createdAt: "2026-11-23T10:15:31.688Z",
              },
            ],
          },
        },
      },
      handler: async ({ params, query }) => {
        const items = await payments.paymentsOf(params.userId, query.orderId);
        return {
          status: 200,
          body: {
            items: items.map((p) => ({ paymentId: p.paymentId, orderId: p.orderId, amount: p.amount, status: p.status, createdAt: p.createdAt.toISOString() })),
          },
        };
      },
    }),
  ];
}
