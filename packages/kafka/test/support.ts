import { randomUUID } from "node:crypto";
import type { OrderFailed } from "@shop/events";

/** An OrderFailed event with fresh ids: the event these tests send through the broker. */
export const orderFailed = (overrides: Partial<OrderFailed> = {}): OrderFailed => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  orderId: randomUUID(),
  userId: "u-1",
  failureCode: "TIMEOUT",
  userCouponId: null,
  ...overrides,
});
