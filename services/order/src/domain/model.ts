export type OrderStatus = "PENDING" | "COMPLETED" | "FAILED";

/** Why a FAILED order failed (the contract's list). */
export type FailureCode = "INSUFFICIENT_BALANCE" | "OUT_OF_STOCK" | "COUPON_NOT_USABLE" | "PAYMENT_FAILED" | "TIMEOUT";

/** Saga steps the order service records, in the order they usually happen. */
export type TimelineStep =
  | "ORDER_PLACED"
  | "COUPON_REJECTED"
  | "BALANCE_DEBITED"
  | "BALANCE_DEBIT_FAILED"
  | "STOCK_RESERVED"
  | "STOCK_RESERVATION_FAILED"
  | "PAYMENT_COMPLETED"
  | "PAYMENT_FAILED"
  | "TIMED_OUT"
  | "COMPLETED";

/** IGNORED: the event arrived after the order was final and changed nothing (e.g. a payment after TIMEOUT). */
export type StepStatus = "SUCCEEDED" | "FAILED" | "IGNORED";

export interface TimelineEntry {
  step: TimelineStep;
  status: StepStatus;
  at: Date;
}

export interface OrderItem {
  productId: string;
  /** Copied from the catalog quote at placement. */
  name: string;
  quantity: number;
  /** KRW, from the catalog quote at placement. */
  unitPrice: number;
}

export interface Order {
  orderId: string;
  userId: string;
  status: OrderStatus;
  items: OrderItem[];
  subtotal: number;
  discountAmount: number;
  totalAmount: number;
  userCouponId: string | null;
  paymentId: string | null;
  failureCode: FailureCode | null;
  /** A PENDING order past this instant fails with TIMEOUT. */
  deadlineAt: Date;
  /** eventId of the order's record on order.completed.v1, fixed at placement. */
  completionEventId: string;
  createdAt: Date;
  updatedAt: Date;
  timeline: TimelineEntry[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const MAX_ITEMS_PER_ORDER = 50;
export const MAX_QUANTITY_PER_ITEM = 1000;
/** Larger orders are refused as invalid input: no real basket costs a trillion KRW. */
export const MAX_ORDER_SUBTOTAL = 1_000_000_000_000;

export const isFinal = (status: OrderStatus): boolean => status !== "PENDING";

/** The order as JSON (dates as ISO strings): what an idempotent replay answers with. */
export type OrderSnapshot = Omit<Order, "deadlineAt" | "createdAt" | "updatedAt" | "timeline"> & {
  deadlineAt: string;
  createdAt: string;
  updatedAt: string;
  timeline: { step: TimelineStep; status: StepStatus; at: string }[];
};

export function toSnapshot(order: Order): OrderSnapshot {
  return JSON.parse(JSON.stringify(order)) as OrderSnapshot;
}

export function fromSnapshot(snapshot: OrderSnapshot): Order {
  return {
    ...snapshot,
    deadlineAt: new Date(snapshot.deadlineAt),
    createdAt: new Date(snapshot.createdAt),
    updatedAt: new Date(snapshot.updatedAt),
    timeline: snapshot.timeline.map((e) => ({ ...e, at: new Date(e.at) })),
  };
}
