import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import { MAX_ITEMS_PER_ORDER, MAX_QUANTITY_PER_ITEM, isFinal, type Order, type TimelineStep } from "../domain/model.ts";
import type { OrderService } from "../domain/order-service.ts";
import type { PlacementKind } from "../domain/placement.ts";
import { MAX_PREFER_WAIT_SECONDS, parsePreferWait } from "./prefer.ts";

/** Ids of other services' resources: opaque, but never anything that could smuggle a path or a query. */
const opaqueId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -");

/** Orders are paged by their sequence number, newest first. */
const orderCursor = schemas.pageCursor("order.orders", /^\d{1,18}$/, "1207");

const TIMELINE_STEPS = [
  "ORDER_PLACED",
  "COUPON_REJECTED",
  "BALANCE_DEBITED",
  "BALANCE_DEBIT_FAILED",
  "STOCK_RESERVED",
  "STOCK_RESERVATION_FAILED",
  "PAYMENT_COMPLETED",
  "PAYMENT_FAILED",
  "TIMED_OUT",
  "COMPLETED",
] as const satisfies readonly TimelineStep[];

/** Examples of the document: one box of tangerines with a 10% coupon, paid from the wallet. */
const ORDER_ID = "5d1e8a2c-7f3b-4c9d-a6e0-2b8f4c1d9e73";
const TANGERINES = "p_0mvxln6o0b08d33f25303";
const PENDING_ORDER = {
  orderId: ORDER_ID,
  userId: "minji",
  status: "PENDING",
  items: [{ productId: TANGERINES, name: "제주 감귤 5kg", quantity: 1, unitPrice: 24_900 }],
  subtotal: 24_900,
  discountAmount: 2_490,
  totalAmount: 22_410,
  userCouponId: "b7e1d0c4-5a3f-4c8e-a1d2-6f9e0b3c7a15",
  paymentId: null,
  failureCode: null,
  createdAt: "2026-11-23T10:15:30.904Z",
  updatedAt: "2026-11-23T10:15:30.904Z",
  timeline: [{ step: "ORDER_PLACED", status: "SUCCEEDED", at: "2026-11-23T10:15:30.904Z" }],
} as const;
const COMPLETED_ORDER = {
  ...PENDING_ORDER,
  status: "COMPLETED",
  paymentId: "e3a9c7b1-4d2f-4e8a-9b6c-1f0d2e3a4b5c",
  updatedAt: "2026-11-23T10:15:31.733Z",
  timeline: [
    ...PENDING_ORDER.timeline,
    { step: "BALANCE_DEBITED", status: "SUCCEEDED", at: "2026-11-23T10:15:31.490Z" },
    { step: "STOCK_RESERVED", status: "SUCCEEDED", at: "2026-11-23T10:15:31.602Z" },
    { step: "PAYMENT_COMPLETED", status: "SUCCEEDED", at: "2026-11-23T10:15:31.733Z" },
    { step: "COMPLETED", status: "SUCCEEDED", at: "2026-11-23T10:15:31.733Z" },
  ],
} as const;
const FAILED_ORDER = {
  ...PENDING_ORDER,
  orderId: "8c2b6e4f-1a3d-4b5c-9e7f-0a1b2c3d4e5f",
  status: "FAILED",
  failureCode: "INSUFFICIENT_BALANCE",
  createdAt: "2026-11-23T09:02:11.250Z",
  updatedAt: "2026-11-23T09:02:11.731Z",
  timeline: [
    { step: "ORDER_PLACED", status: "SUCCEEDED", at: "2026-11-23T09:02:11.250Z" },
    { step: "BALANCE_DEBIT_FAILED", status: "FAILED", at: "2026-11-23T09:02:11.731Z" },
  ],
} as const;

const placementHeaders = {
  Location: { description: "The order's URL", required: true, schema: { type: "string" }, example: `/api/v1/users/minji/orders/${ORDER_ID}` },
  "Idempotent-Replayed": {
    description: "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
    schema: { type: "string", enum: ["true"] },
  },
  "Preference-Applied": { description: "`wait=N` when `Prefer: wait=N` was honoured", schema: { type: "string" }, example: "wait=5" },
};

/** A placement's answer: 202 while the saga runs, 201 once the order is final. */
const placementStatus: Record<PlacementKind, 201 | 202> = { ACCEPTED: 202, FINAL: 201 };

const userParams = z.object({ userId: schemas.userId });
const orderParams = userParams.extend({ orderId: opaqueId.meta({ examples: [ORDER_ID] }) });

const orderLine = z.strictObject({
  productId: opaqueId,
  quantity: schemas.positiveInt(MAX_QUANTITY_PER_ITEM),
});

const placeOrderBody = z.strictObject({
  items: z
    .array(orderLine)
    .min(1, "an order has at least one item")
    .max(MAX_ITEMS_PER_ORDER, `an order has at most ${MAX_ITEMS_PER_ORDER} items`)
    .superRefine((items, ctx) => {
      // One line per product: a repeated product is ambiguous (add up? keep the last?), so it is refused.
      const seen = new Set<string>();
      items.forEach((item, index) => {
        if (seen.has(item.productId))
          ctx.addIssue({ code: "custom", message: `product ${item.productId} appears more than once; send one line per product`, path: [index, "productId"] });
        seen.add(item.productId);
      });
    }),
  userCouponId: opaqueId.nullable().optional().describe("A coupon the user holds (`userCouponId` of GET /users/{userId}/coupons); reserved for this order"),
});

const placeOrderHeaders = z.object({
  "idempotency-key": z
    .string({ error: "required: a retry with the same key and body returns the first answer" })
    .min(1)
    .max(255)
    .describe("Required. A retry with the same key and body returns the first answer")
    .meta({ examples: ["order-2026-11-23-0001"] }),
  prefer: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const parsed = parsePreferWait(value);
      if (!parsed.ok) {
        ctx.addIssue(parsed.message);
        return z.NEVER;
      }
      return parsed.waitSeconds;
    })
    .describe(`\`wait=N\` (N ≤ ${MAX_PREFER_WAIT_SECONDS}): wait up to N seconds for the saga to end`)
    .meta({ openapi: { examples: ["wait=5"] } }),
});

const krw = z.number().int().min(0);
const orderSchema = z
  .object({
    orderId: z.string(),
    userId: z.string(),
    status: z.enum(["PENDING", "COMPLETED", "FAILED"]),
    items: z
      .array(
        z.object({
          productId: z.string(),
          name: z.string().describe("As the catalog named it at placement"),
          quantity: z.number().int().min(1).max(MAX_QUANTITY_PER_ITEM),
          unitPrice: krw.describe("KRW, from the catalog at placement"),
        }),
      )
      .min(1)
      .max(MAX_ITEMS_PER_ORDER),
    subtotal: krw,
    discountAmount: krw,
    totalAmount: krw.describe("subtotal - discountAmount: what the wallet pays"),
    userCouponId: z.string().nullable(),
    paymentId: z.string().nullable().describe("Set once the payment completed"),
    failureCode: z
      .enum(["INSUFFICIENT_BALANCE", "OUT_OF_STOCK", "COUPON_NOT_USABLE", "PAYMENT_FAILED", "TIMEOUT"])
      .nullable()
      .describe("Why a FAILED order failed"),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    timeline: z
      .array(
        z.object({
          step: z.enum(TIMELINE_STEPS),
          status: z.enum(["SUCCEEDED", "FAILED", "IGNORED"]).describe("IGNORED: arrived after the order was final and changed nothing"),
          at: z.iso.datetime(),
        }),
      )
      .describe("Saga steps this service saw, in the order it saw them"),
  })
  .meta({ id: "Order" });

function orderView(order: Order): z.infer<typeof orderSchema> {
  return {
    orderId: order.orderId,
    userId: order.userId,
    status: order.status,
    items: order.items.map((i) => ({ productId: i.productId, name: i.name, quantity: i.quantity, unitPrice: i.unitPrice })),
    subtotal: order.subtotal,
    discountAmount: order.discountAmount,
    totalAmount: order.totalAmount,
    userCouponId: order.userCouponId,
    paymentId: order.paymentId,
    failureCode: order.failureCode,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    timeline: order.timeline.map((e) => ({ step: e.step, status: e.status, at: e.at.toISOString() })),
  };
}

export function orderRoutes(orders: OrderService): RouteSpec[] {
  return [
    defineRoute({
      method: "post",
      operationId: "placeOrder",
      path: "/api/v1/users/:userId/orders",
      summary: "Place an order (prices come from the catalog)",
      description:
        "The order is paid from the wallet by a saga: debit, stock reservation, payment. Without `Prefer: wait` the answer is 202 with the order PENDING; " +
        "poll GET /users/{userId}/orders/{orderId} (its `timeline` shows each step). A retry with the same `Idempotency-Key` and body returns the same order.",
      tags: ["Orders"],
      params: userParams,
      headers: placeOrderHeaders,
      body: placeOrderBody,
      bodyExample: { items: [{ productId: TANGERINES, quantity: 1 }], userCouponId: PENDING_ORDER.userCouponId },
      invalidExample: { body: { items: [{ productId: TANGERINES, quantity: 0 }] } },
      responses: {
        201: {
          description: "The order is final: the saga ended within `Prefer: wait`, or the coupon was refused (FAILED, COUPON_NOT_USABLE)",
          schema: orderSchema,
          example: COMPLETED_ORDER,
          headers: placementHeaders,
        },
        202: { description: "Placed; the saga is running (status PENDING)", schema: orderSchema, example: PENDING_ORDER, headers: placementHeaders },
      },
      errors: ["NOT_FOUND", "IDEMPOTENCY_KEY_REUSED", "REQUEST_IN_PROGRESS", "SERVICE_UNAVAILABLE"],
      problemExamples: {
        NOT_FOUND: {
          summary: "A product the catalog does not have",
          detail: "no product with id p_0mvxlnzzz000000000000",
          extensions: { missingProductIds: ["p_0mvxlnzzz000000000000"] },
        },
        REQUEST_IN_PROGRESS: {
          summary: "The first request with this key is still running",
          detail: "a request with this Idempotency-Key is still being processed; retry shortly",
        },
        SERVICE_UNAVAILABLE: {
          summary: "A service the placement needs is down",
          detail: "the catalog service is not available right now; retry with the same Idempotency-Key",
          extensions: { dependency: "catalog" },
        },
      },
      handler: async ({ params, body, headers }) => {
        const outcome = await orders.place({
          userId: params.userId,
          idempotencyKey: headers["idempotency-key"],
          items: body.items,
          userCouponId: body.userCouponId,
        });
        let { order } = outcome;
        let statusCode = placementStatus[outcome.kind];
        const responseHeaders: Record<string, string> = { location: `/api/v1/users/${params.userId}/orders/${order.orderId}` };
        if (outcome.replayed) responseHeaders["idempotent-replayed"] = "true";
        const waitSeconds = headers.prefer;
        if (waitSeconds !== undefined) {
          responseHeaders["preference-applied"] = `wait=${waitSeconds}`;
          if (!isFinal(order.status) && waitSeconds > 0) {
            order = await orders.awaitOutcome(params.userId, order.orderId, waitSeconds * 1000);
            statusCode = placementStatus[isFinal(order.status) ? "FINAL" : "ACCEPTED"];
          }
        }
        return { status: statusCode, body: orderView(order), headers: responseHeaders };
      },
    }),
    defineRoute({
      method: "get",
      operationId: "getOrder",
      path: "/api/v1/users/:userId/orders/:orderId",
      summary: "One order of the user, with its saga timeline",
      tags: ["Orders"],
      params: orderParams,
      responses: { 200: { description: "The order", schema: orderSchema, example: COMPLETED_ORDER } },
      errors: ["NOT_FOUND"],
      problemExamples: {
        NOT_FOUND: { summary: "No such order of this user", detail: "order was not found", extensions: { orderId: "9d3c6e4f-1a3d-4b5c-9e7f-0a1b2c3d4e5f" } },
      },
      handler: async ({ params }) => ({ status: 200, body: orderView(await orders.get(params.userId, params.orderId)) }),
    }),
    defineRoute({
      method: "get",
      operationId: "listOrders",
      path: "/api/v1/users/:userId/orders",
      summary: "The user's orders, newest first",
      tags: ["Orders"],
      params: userParams,
      query: z.strictObject({ limit: schemas.pageLimit(100, 20), cursor: orderCursor.schema }),
      invalidExample: { query: { cursor: "1207" } },
      responses: {
        200: {
          description: "A page of orders",
          schema: z.object({ items: z.array(orderSchema), nextCursor: schemas.nextCursor }),
          example: { items: [COMPLETED_ORDER, FAILED_ORDER], nextCursor: orderCursor.example },
        },
      },
      handler: async ({ params, query }) => {
        const page = await orders.list(params.userId, query.limit, query.cursor);
        return { status: 200, body: { items: page.items.map(orderView), nextCursor: orderCursor.next(page.nextCursor) } };
      },
    }),
  ];
}
