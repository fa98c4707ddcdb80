import { decision, ignore, type DecisionContext, type SagaParticipant } from "@shop/saga";
import type { StockReserved } from "@shop/events";
import type { PaymentStatus } from "./model.ts";
import { judgePayment } from "./payment-rules.ts";

/** Saga consumers; each name is the inbox scope of one reaction (unchanged, so events handled before stay handled). */
export const ON_STOCK_RESERVED = "payment.take-payment";
export const ON_ORDER_FAILED = "payment.cancel-payment";

/** What the decisions need to know of an order's payment. */
export interface OrderPayment {
  paymentId: string;
  status: PaymentStatus;
}

/** What the repository loads for a batch: only the batch's orders. */
export interface PaymentSagaState {
  /** Orders known to have failed (OrderFailed seen): a StockReserved arriving later takes no payment. */
  failedOrders: ReadonlySet<string>;
  /** The orders' payments, by order id: at most one per order. */
  payments: ReadonlyMap<string, OrderPayment>;
}

/** What the saga changes in the payment service's own data. */
export type PaymentEffect =
  /** A payment was taken: a COMPLETED payment. */
  | { kind: "taken"; paymentId: string; orderId: string; userId: string; amount: number }
  /** The provider declined the payment: a FAILED payment, nothing taken. */
  | { kind: "declined"; paymentId: string; orderId: string; userId: string; amount: number; reason: string }
  /** The order failed: remembered (with its first failure code), so that no payment is taken for it later. */
  | { kind: "failureRecorded"; orderId: string; userId: string; failureCode: string }
  /** A COMPLETED payment of a failed order becomes CANCELLED (the wallet refunds the money). */
  | { kind: "cancelled"; orderId: string; paymentId: string };

export interface PaymentParticipantOptions {
  /** The provider's per-transaction limit in KRW (PAYMENT_MAX_AMOUNT). */
  maxAmount: number;
}

export type PaymentParticipant = SagaParticipant<PaymentSagaState, PaymentEffect>;

/** The payment step of the order saga: take (or decline) the payment once stock is reserved; cancel it when the order fails. */
export function paymentParticipant(options: PaymentParticipantOptions): PaymentParticipant {
  return {
    service: "payment",
    reactions: {
      StockReserved: {
        consumer: ON_STOCK_RESERVED,
        // An order already known to have failed gets no payment and no answer; an order gets one
        // payment, whatever eventId a repeated StockReserved carries.
        decide: (state, event, context) =>
          state.failedOrders.has(event.orderId) || state.payments.has(event.orderId) ? ignore() : takePayment(event, options.maxAmount, context),
      },
      OrderFailed: {
        consumer: ON_ORDER_FAILED,
        decide: (state, event) => {
          const effects: PaymentEffect[] = [];
          // The first failure of an order is the one kept.
          if (!state.failedOrders.has(event.orderId))
            effects.push({ kind: "failureRecorded", orderId: event.orderId, userId: event.userId, failureCode: event.failureCode });
          // Only a COMPLETED payment is cancelled, once: a declined (FAILED) one stays declined.
          const payment = state.payments.get(event.orderId);
          if (payment?.status === "COMPLETED") effects.push({ kind: "cancelled", orderId: event.orderId, paymentId: payment.paymentId });
          return decision(effects);
        },
      },
    },
    evolve,
  };
}

function takePayment(event: StockReserved, maxAmount: number, context: DecisionContext) {
  const { orderId, userId, amount } = event;
  const paymentId = context.newId();
  const answer = { eventId: context.newId(), occurredAt: context.now.toISOString(), orderId, userId };
  const verdict = judgePayment(amount, maxAmount);
  if (verdict.approved) {
    return decision<PaymentEffect>(
      [{ kind: "taken", paymentId, orderId, userId, amount }],
      [{ type: "PaymentCompleted", key: orderId, payload: { ...answer, paymentId, amount } }],
    );
  }
  return decision<PaymentEffect>(
    [{ kind: "declined", paymentId, orderId, userId, amount, reason: verdict.detail }],
    [{ type: "PaymentFailed", key: orderId, payload: { ...answer, reason: "PAYMENT_FAILED", detail: verdict.detail } }],
  );
}

function evolve(state: PaymentSagaState, effect: PaymentEffect): PaymentSagaState {
  switch (effect.kind) {
    case "taken":
      return { ...state, payments: new Map(state.payments).set(effect.orderId, { paymentId: effect.paymentId, status: "COMPLETED" }) };
    case "declined":
      return { ...state, payments: new Map(state.payments).set(effect.orderId, { paymentId: effect.paymentId, status: "FAILED" }) };
    case "failureRecorded":
      return { ...state, failedOrders: new Set(state.failedOrders).add(effect.orderId) };
    case "cancelled":
      return { ...state, payments: new Map(state.payments).set(effect.orderId, { paymentId: effect.paymentId, status: "CANCELLED" }) };
  }
}
