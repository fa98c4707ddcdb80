import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import { MAX_CHARGE_AMOUNT } from "../domain/model.ts";
import type { WalletService } from "../domain/wallet-service.ts";

const userParams = z.object({ userId: schemas.userId });

/** Ledger entries are paged by their id, newest first. */
const historyCursor = schemas.pageCursor("wallet.history", /^\d{1,18}$/, "1041");

const krw = z.number().int();
const balance = z.object({ userId: z.string(), balance: krw.min(0).describe("KRW; never negative") }).meta({ id: "Balance" });
const chargeReceipt = z
  .object({
    chargeId: z.string().describe("The ledger entry of the charge"),
    userId: z.string(),
    amount: krw.min(1).describe("KRW added"),
    balance: krw.min(0).describe("KRW after the charge"),
  })
  .meta({ id: "ChargeReceipt" });
const historyItem = z
  .object({
    id: z.string(),
    type: z.enum(["CHARGE", "PAYMENT", "REFUND"]),
    amount: krw.describe("Signed KRW: payments are negative"),
    balanceAfter: krw.min(0),
    orderId: z.string().optional().describe("The order a PAYMENT or REFUND belongs to"),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "LedgerEntry" });

const idempotentReplay = {
  "Idempotent-Replayed": {
    description: "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
    schema: { type: "string", enum: ["true"] },
  },
};

export function walletRoutes(wallet: WalletService): RouteSpec[] {
  return [
    defineRoute({
      method: "get",
      operationId: "getBalance",
      path: "/api/v1/users/:userId/balance",
      summary: "Current balance (0 for a user never seen)",
      tags: ["Wallet"],
      params: userParams,
      responses: { 200: { description: "The balance", schema: balance, example: { userId: "minji", balance: 77_590 } } },
      handler: async ({ params }) => ({ status: 200, body: { userId: params.userId, balance: await wallet.balanceOf(params.userId) } }),
    }),
    defineRoute({
      method: "post",
      operationId: "chargeBalance",
      path: "/api/v1/users/:userId/balance/charges",
      summary: "Charge the balance",
      tags: ["Wallet"],
      params: userParams,
      headers: z.object({
        "idempotency-key": schemas.idempotencyKey.optional().describe("Optional. A retry with the same key and body returns the first answer"),
      }),
      body: z.strictObject({ amount: schemas.positiveInt(MAX_CHARGE_AMOUNT).describe("KRW to add") }),
      bodyExample: { amount: 100_000 },
      invalidExample: { body: { amount: 0 } },
      responses: {
        201: {
          description: "Charged; `balance` is the balance after the charge",
          schema: chargeReceipt,
          example: { chargeId: "1040", userId: "minji", amount: 100_000, balance: 100_000 },
          headers: idempotentReplay,
        },
      },
      errors: ["IDEMPOTENCY_KEY_REUSED"],
      handler: async ({ params, body, headers }) => {
        const { receipt, replayed } = await wallet.charge({ userId: params.userId, amount: body.amount, idempotencyKey: headers["idempotency-key"] });
        return { status: 201, body: receipt, headers: replayed ? { "idempotent-replayed": "true" } : undefined };
      },
    }),
    defineRoute({
      method: "get",
      operationId: "listBalanceHistory",
      path: "/api/v1/users/:userId/balance/history",
      summary: "Ledger entries, newest first; their amounts sum to the balance",
      tags: ["Wallet"],
      params: userParams,
      query: z.strictObject({ limit: schemas.pageLimit(100, 20), cursor: historyCursor.schema }),
      invalidExample: { query: { cursor: "bm90LWEtY3Vyc29y" } },
      responses: {
        200: {
          description: "A page of entries",
          schema: z.object({ items: z.array(historyItem), nextCursor: schemas.nextCursor }),
          example: {
            items: [
              {
                id: "1042",
                type: "PAYMENT",
                amount: -22_410,
                balanceAfter: 77_590,
                orderId: "5d1e8a2c-7f3b-4c9d-a6e0-2b8f4c1d9e73",
                createdAt: "2026-11-23T10:15:31.482Z",
              },
              { id: "1041", type: "CHARGE", amount: 100_000, balanceAfter: 100_000, createdAt: "2026-11-23T10:14:02.117Z" },
            ],
            nextCursor: historyCursor.example,
          },
        },
      },
      handler: async ({ params, query }) => {
        const page = await wallet.history(params.userId, query.limit, query.cursor);
        return {
          status: 200,
          body: {
            items: page.items.map((e) => ({
              id: e.id,
              type: e.type,
              amount: e.amount,
              balanceAfter: e.balanceAfter,
              ...(e.orderId ? { orderId: e.orderId } : {}),
              createdAt: e.createdAt.toISOString(),
            })),
            nextCursor: historyCursor.next(page.nextCursor),
          },
        };
      },
    }),
  ];
}
