import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import { MAX_PAYMENTS_LISTED } from "../domain/model.ts";
import type { PaymentService } from "../domain/payment-service.ts";

const userParams = z.object({ userId: schemas.userId });

const paymentSchema = z.object({
  paymentId: z.string(),
  orderId: z.string(),
  amount: z.number().int(),
  status: z.enum(["COMPLETED", "FAILED", "CANCELLED"]).describe("FAILED: declined, nothing taken; CANCELLED: the order failed after the payment, the wallet refunded it"),
  createdAt: z.string(),
});

export function paymentRoutes(payments: PaymentService): RouteSpec[] {
  return [
    defineRoute({
      method: "get",
      path: "/api/v1/users/:userId/payments",
      summary: `The user's payments, newest first (at most ${MAX_PAYMENTS_LISTED})`,
      tags: ["Payments"],
      params: userParams,
      query: z.strictObject({
        orderId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -").optional().describe("Only the payment of this order"),
      }),
      responses: { 200: { description: "The payments", schema: z.object({ items: z.array(paymentSchema) }) } },
      handler: async ({ params, query }) => {
        const items = await payments.paymentsOf(params.userId, query.orderId);
        return {
          status: 200,
          body: { items: items.map((p) => ({ paymentId: p.paymentId, orderId: p.orderId, amount: p.amount, status: p.status, createdAt: p.createdAt.toISOString() })) },
        };
      },
    }),
  ];
}
