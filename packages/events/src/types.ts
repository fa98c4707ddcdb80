// TypeScript shapes of the Avro records in schemas.ts; schemas.test.ts checks that samples of
// these types are valid for the schemas, so the two cannot drift apart silently.

export interface EventEnvelope {
  eventId: string;
  occurredAt: string;
}

export interface SagaItem {
  productId: string;
  quantity: number;
  unitPrice: number;
}

export interface OrderPlaced extends EventEnvelope {
  orderId: string;
  userId: string;
  items: SagaItem[];
  subtotal: number;
  discountAmount: number;
  totalAmount: number;
  userCouponId: string | null;
  deadlineAt: string;
}

export interface BalanceDebited extends EventEnvelope {
  orderId: string;
  userId: string;
  amount: number;
  items: SagaItem[];
}

export interface SagaFailure extends EventEnvelope {
  orderId: string;
  userId: string;
  reason: string;
  detail: string;
}

export type BalanceDebitFailed = SagaFailure;

export interface StockReserved extends EventEnvelope {
  orderId: string;
  userId: string;
  amount: number;
  items: SagaItem[];
}

export interface StockReservationFailed extends SagaFailure {
  productId: string | null;
}

export interface PaymentCompleted extends EventEnvelope {
  orderId: string;
  userId: string;
  paymentId: string;
  amount: number;
}

export type PaymentFailed = SagaFailure;

export interface OrderFailed extends EventEnvelope {
  orderId: string;
  userId: string;
  failureCode: string;
  userCouponId: string | null;
}

export interface OrderCompleted {
  eventId: string;
  orderId: string;
  userId: string;
  items: { productId: string; name: string; quantity: number; unitPrice: number }[];
  subtotal: number;
  discountAmount: number;
  totalAmount: number;
  paymentId: string;
  completedAt: string;
}

export interface EventPayloads {
  OrderPlaced: OrderPlaced;
  BalanceDebited: BalanceDebited;
  BalanceDebitFailed: BalanceDebitFailed;
  StockReserved: StockReserved;
  StockReservationFailed: StockReservationFailed;
  PaymentCompleted: PaymentCompleted;
  PaymentFailed: PaymentFailed;
  OrderFailed: OrderFailed;
  OrderCompleted: OrderCompleted;
}

/** An event a use case emits: its type, the Kafka key (the order id) and the payload. */
export interface DomainEvent<E extends keyof EventPayloads = keyof EventPayloads> {
  type: E;
  key: string;
  payload: EventPayloads[E];
}
