import { randomUUID } from "node:crypto";
import type {
  BalanceDebited,
  BalanceDebitFailed,
  OrderCompleted,
  OrderFailed,
  OrderPlaced,
  PaymentCompleted,
  PaymentFailed,
  SagaItem,
  StockReservationFailed,
  StockReserved,
} from "@shop/events";

// Test data builders for every event: sensible defaults, any field overridden.

const envelope = () => ({ eventId: randomUUID(), occurredAt: new Date().toISOString() });
const item = (overrides: Partial<SagaItem> = {}): SagaItem => ({ productId: "p-1", quantity: 1, unitPrice: 1000, ...overrides });

export const build = {
  item,
  orderPlaced: (overrides: Partial<OrderPlaced> = {}): OrderPlaced => {
    const items = overrides.items ?? [item()];
    const subtotal = items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
    return {
      ...envelope(),
      orderId: randomUUID(),
      userId: "user-1",
      items,
      subtotal,
      discountAmount: 0,
      totalAmount: subtotal,
      userCouponId: null,
      deadlineAt: new Date(Date.now() + 30_000).toISOString(),
      ...overrides,
    };
  },
  balanceDebited: (overrides: Partial<BalanceDebited> = {}): BalanceDebited => ({
    ...envelope(),
    orderId: randomUUID(),
    userId: "user-1",
    amount: 1000,
    items: [item()],
    ...overrides,
  }),
  balanceDebitFailed: (overrides: Partial<BalanceDebitFailed> = {}): BalanceDebitFailed => ({
    ...envelope(),
    orderId: randomUUID(),
    userId: "user-1",
    reason: "INSUFFICIENT_BALANCE",
    detail: "",
    ...overrides,
  }),
  stockReserved: (overrides: Partial<StockReserved> = {}): StockReserved => ({
    ...envelope(),
    orderId: randomUUID(),
    userId: "user-1",
    amount: 1000,
    items: [item()],
    ...overrides,
  }),
  stockReservationFailed: (overrides: Partial<StockReservationFailed> = {}): StockReservationFailed => ({
    ...envelope(),
    orderId: randomUUID(),
    userId: "user-1",
    reason: "OUT_OF_STOCK",
    detail: "",
    productId: "p-1",
    ...overrides,
  }),
  paymentCompleted: (overrides: Partial<PaymentCompleted> = {}): PaymentCompleted => ({
    ...envelope(),
    orderId: randomUUID(),
    userId: "user-1",
    paymentId: randomUUID(),
    amount: 1000,
    ...overrides,
  }),
  paymentFailed: (overrides: Partial<PaymentFailed> = {}): PaymentFailed => ({
    ...envelope(),
    orderId: randomUUID(),
    userId: "user-1",
    reason: "PAYMENT_FAILED",
    detail: "",
    ...overrides,
  }),
  orderFailed: (overrides: Partial<OrderFailed> = {}): OrderFailed => ({
    ...envelope(),
    orderId: randomUUID(),
    userId: "user-1",
    failureCode: "TIMEOUT",
    userCouponId: null,
    ...overrides,
  }),
  orderCompleted: (overrides: Partial<OrderCompleted> = {}): OrderCompleted => ({
    eventId: randomUUID(),
    orderId: randomUUID(),
    userId: "user-1",
    items: [{ ...item(), name: "Product 1" }],
    subtotal: 1000,
    discountAmount: 0,
    totalAmount: 1000,
    paymentId: randomUUID(),
    completedAt: new Date().toISOString(),
    ...overrides,
  }),
};
