import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import { MAX_CHARGE_AMOUNT } from "../domain/model.ts";
import type { WalletService } from "../domain/wallet-service.ts";

const userParams = z.object({ userId: schemas.userId });

const balance = z.object({ userId: z.string(), balance: z.number().int() });
const chargeReceipt = z.object({ chargeId: z.string(), userId: z.string(), amount: z.number().int(), balance: z.number().int() });
const historyItem = z.object({
  id: z.string(),
  type: z.enum(["CHARGE", "PAYMENT", "REFUND"]),
  amount: z.number().int().describe("Signed KRW: payments are negative"),
  balanceAfter: z.number().int(),
  orderId: z.string().optional(),
  createdAt: z.string(),
});

export function walletRoutes(wallet: WalletService): RouteSpec[] {
  return [
    defineRoute({
      method: "get",
      path: "/api/v1/users/:userId/balance",
      summary: "Current balance (0 for a user never seen)",
      tags: ["Wallet"],
      params: userParams,
      responses: { 200: { description: "The balance", schema: balance } },
      handler: async ({ params }) => ({ status: 200, body: { userId: params.userId, balance: await wallet.balanceOf(params.userId) } }),
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/users/:userId/balance/charges",
      summary: "Charge the balance",
      tags: ["Wallet"],
      params: userParams,
      headers: z.object({ "idempotency-key": schemas.idempotencyKey.optional().describe("A retry with the same key and body returns the first answer") }),
      body: z.strictObject({ amount: schemas.positiveInt(MAX_CHARGE_AMOUNT).describe("KRW to add") }),
      responses: { 201: { description: "Charged; `balance` is the balance after the charge", schema: chargeReceipt } },
      errors: ["VALIDATION_FAILED", "IDEMPOTENCY_KEY_REUSED"],
      handler: async ({ params, body, headers }) => {
        const { receipt, replayed } = await wallet.charge({ userId: params.userId, amount: body.amount, idempotencyKey: headers["idempotency-key"] });
        return { status: 201, body: receipt, headers: replayed ? { "idempotent-replayed": "true" } : undefined };
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/users/:userId/balance/history",
      summary: "Ledger entries, newest first; their amounts sum to the balance",
      tags: ["Wallet"],
      params: userParams,
      query: z.strictObject({
        limit: schemas.pageLimit(100, 20),
        cursor: z.string().regex(/^\d{1,18}$/, "not a cursor this API returned").optional(),
      }),
      responses: { 200: { description: "A page of entries", schema: z.object({ items: z.array(historyItem), nextCursor: z.string().nullable() }) } },
      handler: async ({ params, query }) => {
        const page = await wallet.history(params.userId, query.limit, query.cursor);
        return {
          status: 200,
          body: {
            items: page.items.map((e) => ({ id: e.id, type: e.type, amount: e.amount, balanceAfter: e.balanceAfter, ...(e.orderId ? { orderId: e.orderId } : {}), createdAt: e.createdAt.toISOString() })),
            nextCursor: page.nextCursor,
          },
        };
      },
    }),
  ];
}
