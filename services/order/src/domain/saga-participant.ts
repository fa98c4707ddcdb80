import type { EventName, EventPayloads } from "@shop/events";
import { decision, ignore, type Decision, type DecisionContext, type Reaction, type SagaParticipant } from "@shop/saga";
import type { FailureCode, Order, OrderStatus, TimelineEntry } from "./model.ts";
import { orderCompleted, orderFailed } from "./order-events.ts";
import { nextState, type SagaSignal } from "./order-state.ts";

/** What the order's saga decisions read of an order (the timeline is only ever appended to). */
export type SagaOrder = Omit<Order, "timeline" | "createdAt" | "updatedAt" | "deadlineAt">;

/** The orders a batch of participants' outcomes is about, as they stand (locked). */
export interface OrderSagaState {
  orders: ReadonlyMap<string, SagaOrder>;
}

export type OrderSagaEffect =
  /** Steps to add to the order's timeline (a step it already has is left as it is). */
  | { kind: "steps-recorded"; orderId: string; entries: TimelineEntry[] }
  | { kind: "status-changed"; orderId: string; status: OrderStatus; failureCode: FailureCode | null; paymentId: string | null };

export const sagaStateOf = (orders: Iterable<SagaOrder>): OrderSagaState => ({ orders: new Map([...orders].map((o) => [o.orderId, o])) });

/**
 * One signal on one order: the state machine (order-state.ts) says where the order goes; the
 * timeline records the step, and a PENDING order that ends emits OrderCompleted or OrderFailed.
 * An order this service does not know is not tracked.
 */
export function decideSignal(state: OrderSagaState, orderId: string, signal: SagaSignal, context: DecisionContext): Decision<OrderSagaEffect> {
  const order = state.orders.get(orderId);
  if (!order) return ignore();
  const transition = nextState(order, signal);
  const effects: OrderSagaEffect[] = [];
  if (transition.record.length) effects.push({ kind: "steps-recorded", orderId, entries: transition.record.map((r) => ({ ...r, at: context.now })) });
  if (transition.status === order.status) return decision(effects);
  const changed: SagaOrder = { ...order, status: transition.status, failureCode: transition.failureCode, paymentId: transition.paymentId };
  effects.push({ kind: "status-changed", orderId, status: changed.status, failureCode: changed.failureCode, paymentId: changed.paymentId });
  if (transition.emits === "OrderCompleted") return decision(effects, [orderCompleted(changed, context.now)]);
  if (transition.emits === "OrderFailed") return decision(effects, [orderFailed(changed, order.userCouponId, context.newId(), context.now)]);
  return decision(effects);
}

export function evolveOrderSaga(state: OrderSagaState, effect: OrderSagaEffect): OrderSagaState {
  if (effect.kind !== "status-changed") return state;
  const order = state.orders.get(effect.orderId);
  if (!order) return state;
  const { status, failureCode, paymentId } = effect;
  return { orders: new Map(state.orders).set(effect.orderId, { ...order, status, failureCode, paymentId }) };
}

/** A participant's outcome as the signal it is to the order; each event has its own inbox scope. */
function signalOn<E extends EventName>(consumer: string, signalOf: (event: EventPayloads[E]) => SagaSignal): Reaction<OrderSagaState, OrderSagaEffect, E> {
  return { consumer, decide: (state, event, context) => decideSignal(state, event.orderId, signalOf(event), context) };
}

/** The order's side of the saga: each participant's outcome moves (or, late, only annotates) the order. */
export const orderSagaParticipant: SagaParticipant<OrderSagaState, OrderSagaEffect> = {
  service: "order",
  reactions: {
    BalanceDebited: signalOn("order.on-balance-debited", () => ({ kind: "BALANCE_DEBITED" })),
    BalanceDebitFailed: signalOn("order.on-balance-debit-failed", () => ({ kind: "BALANCE_DEBIT_FAILED" })),
    StockReserved: signalOn("order.on-stock-reserved", () => ({ kind: "STOCK_RESERVED" })),
    StockReservationFailed: signalOn("order.on-stock-reservation-failed", () => ({ kind: "STOCK_RESERVATION_FAILED" })),
    // COMPLETED and one OrderCompleted only from PENDING: a payment for a FAILED order is undone by the payment service.
    PaymentCompleted: signalOn<"PaymentCompleted">("order.on-payment-completed", (event) => ({ kind: "PAYMENT_COMPLETED", paymentId: event.paymentId })),
    PaymentFailed: signalOn("order.on-payment-failed", () => ({ kind: "PAYMENT_FAILED" })),
  },
  evolve: evolveOrderSaga,
};
