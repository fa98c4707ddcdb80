import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import { MAX_ITEMS_PER_ORDER, MAX_QUANTITY_PER_ITEM, isFinal, type Order } from "../domain/model.ts";
import type { OrderService } from "../domain/order-service.ts";
import type { PlacementKind } from "../domain/placement.ts";
import { MAX_PREFER_WAIT_SECONDS, parsePreferWait } from "./prefer.ts";

/** HTTP statuses of this service's business codes (on top of the shared ones). */
export const orderErrorStatuses: Record<string, number> = {
  SERVICE_UNAVAILABLE: 503,
  REQUEST_IN_PROGRESS: 409,
};

/** Ids of other services' resources: opaque, but never anything that could smuggle a path or a query. */
const opaqueId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -");

/** A placement's answer: 202 while the saga runs, 201 once the order is final. */
const placementStatus: Record<PlacementKind, 201 | 202> = { ACCEPTED: 202, FINAL: 201 };

const userParams = z.object({ userId: schemas.userId });
const orderParams = userParams.extend({ orderId: opaqueId });

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
        if (seen.has(item.productId)) ctx.addIssue({ code: "custom", message: `product ${item.productId} appears more than once; send one line per product`, path: [index, "productId"] });
        seen.add(item.productId);
      });
    }),
  userCouponId: opaqueId.nullable().optional().describe("A coupon the user holds; reserved for this order"),
});

const placeOrderHeaders = z.object({
  "idempotency-key": z
    .string({ error: "required: a retry with the same key and body returns the first answer" })
    .min(1)
    .max(255)
    .describe("Required. A retry with the same key and body returns the first answer"),
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
    .describe(`\`wait=N\` (N ≤ ${MAX_PREFER_WAIT_SECONDS}): wait up to N seconds for the saga to end`),
});

const orderSchema = z.object({
  orderId: z.string(),
  userId: z.string(),
  status: z.enum(["PENDING", "COMPLETED", "FAILED"]),
  items: z.array(z.object({ productId: z.string(), name: z.string(), quantity: z.number().int(), unitPrice: z.number().int() })),
  subtotal: z.number().int(),
  discountAmount: z.number().int(),
  totalAmount: z.number().int(),
  userCouponId: z.string().nullable(),
  paymentId: z.string().nullable(),
  failureCode: z.enum(["INSUFFICIENT_BALANCE", "OUT_OF_STOCK", "COUPON_NOT_USABLE", "PAYMENT_FAILED", "TIMEOUT"]).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  timeline: z.array(z.object({ step: z.string(), status: z.enum(["SUCCEEDED", "FAILED", "IGNORED"]), at: z.string() })).describe("Saga steps this service saw, in the order it saw them"),
});

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
      path: "/api/v1/users/:userId/orders",
      summary: "Place an order (prices come from the catalog)",
      tags: ["Orders"],
      params: userParams,
      headers: placeOrderHeaders,
      body: placeOrderBody,
      responses: {
        202: { description: "Placed; the saga is running (status PENDING)", schema: orderSchema },
        201: { description: "The order is final: the saga ended within `Prefer: wait`, or the coupon was refused (FAILED, COUPON_NOT_USABLE)", schema: orderSchema },
      },
      errors: ["VALIDATION_FAILED", "NOT_FOUND", "IDEMPOTENCY_KEY_REUSED", "REQUEST_IN_PROGRESS", "SERVICE_UNAVAILABLE"],
      handler: async ({ params, body, headers }) => {
        const outcome = await orders.place({ userId: params.userId, idempotencyKey: headers["idempotency-key"], items: body.items, userCouponId: body.userCouponId });
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
      path: "/api/v1/users/:userId/orders/:orderId",
      summary: "One order of the user, with its saga timeline",
      tags: ["Orders"],
      params: orderParams,
      responses: { 200: { description: "The order", schema: orderSchema } },
      errors: ["NOT_FOUND"],
      handler: async ({ params }) => ({ status: 200, body: orderView(await orders.get(params.userId, params.orderId)) }),
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/users/:userId/orders",
      summary: "The user's orders, newest first",
      tags: ["Orders"],
      params: userParams,
      query: z.strictObject({
        limit: schemas.pageLimit(100, 20),
        cursor: z.string().regex(/^\d{1,18}$/, "not a cursor this API returned").optional(),
      }),
      responses: { 200: { description: "A page of orders", schema: z.object({ items: z.array(orderSchema), nextCursor: z.string().nullable() }) } },
      handler: async ({ params, query }) => {
        const page = await orders.list(params.userId, query.limit, query.cursor);
        return { status: 200, body: { items: page.items.map(orderView), nextCursor: page.nextCursor } };
      },
    }),
  ];
}
