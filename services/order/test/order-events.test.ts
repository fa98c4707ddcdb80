import type { Order } from "../src/domain/model.ts";
import { orderCompleted, orderFailed, orderPlaced } from "../src/domain/order-events.ts";

const placedAt = new Date("2026-01-02T03:04:05.000Z");
const order: Order = {
  orderId: "order-1",
  userId: "user-1",
  status: "PENDING",
  items: [{ productId: "p-1", name: "Pen", quantity: 2, unitPrice: 1_500 }],
  subtotal: 3_000,
  discountAmount: 500,
  totalAmount: 2_500,
  userCouponId: "uc-1",
  paymentId: null,
  failureCode: null,
  deadlineAt: new Date("2026-01-02T03:04:35.000Z"),
  completionEventId: "completion-1",
  createdAt: placedAt,
  updatedAt: placedAt,
  timeline: [],
};

describe("Given an order", () => {
  test("When it is placed, Then OrderPlaced carries its lines, amounts, coupon and deadline under the given event id", () => {
    expect(orderPlaced(order, "event-1")).toEqual({
      type: "OrderPlaced",
      key: "order-1",
      payload: {
        eventId: "event-1",
        occurredAt: "2026-01-02T03:04:05.000Z",
        orderId: "order-1",
        userId: "user-1",
        items: [{ productId: "p-1", quantity: 2, unitPrice: 1_500 }],
        subtotal: 3_000,
        discountAmount: 500,
        totalAmount: 2_500,
        userCouponId: "uc-1",
        deadlineAt: "2026-01-02T03:04:35.000Z",
      },
    });
  });

  test("When it fails, Then OrderFailed names its failure and only the coupon reservation to release", () => {
    const failed: Order = { ...order, status: "FAILED", failureCode: "OUT_OF_STOCK" };
    const at = new Date("2026-01-02T03:04:09.000Z");
    expect(orderFailed(failed, "uc-1", "event-2", at)).toEqual({
      type: "OrderFailed",
      key: "order-1",
      payload: {
        eventId: "event-2",
        occurredAt: "2026-01-02T03:04:09.000Z",
        orderId: "order-1",
        userId: "user-1",
        failureCode: "OUT_OF_STOCK",
        userCouponId: "uc-1",
      },
    });
    expect(orderFailed(failed, null, "event-3", at).payload.userCouponId).toBeNull();
  });

  test("When it completes, Then OrderCompleted reuses the event id fixed at placement", () => {
    const completed: Order = { ...order, status: "COMPLETED", paymentId: "pay-1" };
    const at = new Date("2026-01-02T03:04:07.000Z");
    expect(orderCompleted(completed, at)).toEqual({
      type: "OrderCompleted",
      key: "order-1",
      payload: {
        eventId: "completion-1",
        orderId: "order-1",
        userId: "user-1",
        items: [{ productId: "p-1", name: "Pen", quantity: 2, unitPrice: 1_500 }],
        subtotal: 3_000,
        discountAmount: 500,
        totalAmount: 2_500,
        paymentId: "pay-1",
        completedAt: "2026-01-02T03:04:07.000Z",
      },
    });
    expect(orderCompleted(completed, new Date()).payload.eventId).toBe(orderCompleted(completed, at).payload.eventId);
  });
});
