import { randomUUID } from "node:crypto";
import type { BalanceDebited, PaymentCompleted, SagaFailure, StockReserved } from "@shop/events";
import type { Order } from "./model.ts";
import { orderCompleted, orderFailed } from "./order-events.ts";
import { nextState, type SagaSignal } from "./order-state.ts";
import type { OrderStore, OrderTransaction } from "./ports.ts";

/** Saga consumers; each name is the inbox scope of one reaction. */
const ON_BALANCE_DEBITED = "order.on-balance-debited";
const ON_BALANCE_DEBIT_FAILED = "order.on-balance-debit-failed";
const ON_STOCK_RESERVED = "order.on-stock-reserved";
const ON_STOCK_RESERVATION_FAILED = "order.on-stock-reservation-failed";
const ON_PAYMENT_COMPLETED = "order.on-payment-completed";
const ON_PAYMENT_FAILED = "order.on-payment-failed";

/** The order's side of the saga: each participant's outcome (and a passed deadline) moves or annotates the order. */
export class SagaReactions {
  constructor(private readonly store: OrderStore) {}

  recordBalanceDebited(event: BalanceDebited): Promise<void> {
    return this.react(event, ON_BALANCE_DEBITED, { kind: "BALANCE_DEBITED" });
  }

  recordBalanceDebitFailed(event: SagaFailure): Promise<void> {
    return this.react(event, ON_BALANCE_DEBIT_FAILED, { kind: "BALANCE_DEBIT_FAILED" });
  }

  recordStockReserved(event: StockReserved): Promise<void> {
    return this.react(event, ON_STOCK_RESERVED, { kind: "STOCK_RESERVED" });
  }

  recordStockReservationFailed(event: SagaFailure): Promise<void> {
    return this.react(event, ON_STOCK_RESERVATION_FAILED, { kind: "STOCK_RESERVATION_FAILED" });
  }

  /** COMPLETED and one OrderCompleted, only from PENDING: a payment for a FAILED order is undone by the payment service. */
  recordPaymentCompleted(event: PaymentCompleted): Promise<void> {
    return this.react(event, ON_PAYMENT_COMPLETED, { kind: "PAYMENT_COMPLETED", paymentId: event.paymentId });
  }

  recordPaymentFailed(event: SagaFailure): Promise<void> {
    return this.react(event, ON_PAYMENT_FAILED, { kind: "PAYMENT_FAILED" });
  }

  /** Fails PENDING orders past their deadline with TIMEOUT; returns how many. Safe to run in several instances at once. */
  failOverdueOrders(now = new Date(), limit = 100): Promise<number> {
    return this.store.transaction(async (tx) => {
      const overdue = await tx.lockOverduePendingOrders(now, limit);
      for (const order of overdue) await this.apply(tx, order, { kind: "DEADLINE_PASSED" });
      return overdue.length;
    });
  }

  private react(event: { eventId: string; orderId: string }, consumer: string, signal: SagaSignal): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, consumer))) return;
      const order = await tx.lockOrder(event.orderId);
      // Not an order of this service: nothing to track.
      if (!order) return;
      await this.apply(tx, order, signal);
    });
  }

  private async apply(tx: OrderTransaction, order: Order, signal: SagaSignal): Promise<void> {
    const now = new Date();
    const transition = nextState(order, signal);
    await tx.appendTimeline(order.orderId, transition.record.map((r) => ({ ...r, at: now })));
    if (transition.status !== order.status) {
      await tx.updateOrder(order.orderId, { status: transition.status, failureCode: transition.failureCode, paymentId: transition.paymentId });
    }
    const changed: Order = { ...order, status: transition.status, failureCode: transition.failureCode, paymentId: transition.paymentId };
    if (transition.emits === "OrderCompleted") await tx.publish([orderCompleted(changed, now)]);
    if (transition.emits === "OrderFailed") await tx.publish([orderFailed(changed, order.userCouponId, randomUUID(), new Date())]);
  }
}
