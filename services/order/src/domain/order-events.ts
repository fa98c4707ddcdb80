import type { Order } from "./model.ts";
import type { DomainEvent } from "./ports.ts";

// The events an order emits. Pure: ids and clock readings come from the caller.

export function orderPlaced(order: Order, eventId: string): DomainEvent<"OrderPlaced"> {
  return {
    type: "OrderPlaced",
    key: order.orderId,
    payload: {
      eventId,
      occurredAt: order.createdAt.toISOString(),
      orderId: order.orderId,
      userId: order.userId,
      items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice })),
      subtotal: order.subtotal,
      discountAmount: order.discountAmount,
      totalAmount: order.totalAmount,
      userCouponId: order.userCouponId,
      deadlineAt: order.deadlineAt.toISOString(),
    },
  };
}

/** `reservedCouponId`: the coupon this order holds a reservation on (null if none), for the coupon service to release. */
export function orderFailed(
  order: Pick<Order, "orderId" | "userId" | "failureCode">,
  reservedCouponId: string | null,
  eventId: string,
  occurredAt: Date,
): DomainEvent<"OrderFailed"> {
  return {
    type: "OrderFailed",
    key: order.orderId,
    payload: {
      eventId,
      occurredAt: occurredAt.toISOString(),
      orderId: order.orderId,
      userId: order.userId,
      failureCode: order.failureCode!,
      userCouponId: reservedCouponId,
    },
  };
}

/** The data platform's record; its eventId was fixed at placement, so a re-delivery carries the same one. */
export function orderCompleted(
  order: Pick<Order, "orderId" | "userId" | "items" | "subtotal" | "discountAmount" | "totalAmount" | "paymentId" | "completionEventId">,
  completedAt: Date,
): DomainEvent<"OrderCompleted"> {
  return {
    type: "OrderCompleted",
    key: order.orderId,
    payload: {
      eventId: order.completionEventId,
      orderId: order.orderId,
      userId: order.userId,
      items: order.items.map((i) => ({ productId: i.productId, name: i.name, quantity: i.quantity, unitPrice: i.unitPrice })),
      subtotal: order.subtotal,
      discountAmount: order.discountAmount,
      totalAmount: order.totalAmount,
      paymentId: order.paymentId!,
      completedAt: completedAt.toISOString(),
    },
  };
}
