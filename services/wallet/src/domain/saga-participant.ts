import type { OrderFailed, OrderPlaced } from "@shop/events";
import { decision, ignore, type DecisionContext, type SagaParticipant } from "@shop/saga";
import type { OrderDebit } from "./model.ts";

/** Saga consumers; each name is the inbox scope of one reaction (kept across versions: handled events stay handled). */
export const ON_ORDER_PLACED = "wallet.debit-order";
export const ON_ORDER_FAILED = "wallet.refund-order";

/** What the wallet's saga decisions read: loaded for one batch, evolved event by event. */
export interface WalletSagaState {
  /** The batch's orders that the wallet already acted on, by order id. */
  debits: ReadonlyMap<string, OrderDebit>;
  /** Balances of the batch's users, by user id; a user without a wallet has 0. */
  balances: ReadonlyMap<string, number>;
}

/**
 * What a decision changes. `balanceAfter` is the user's balance once the effect is applied: the
 * ledger entry records it, and the next event of the batch sees it.
 */
export type WalletEffect =
  | { kind: "debited"; orderId: string; userId: string; amount: number; balanceAfter: number }
  | { kind: "rejected"; orderId: string; userId: string; amount: number }
  | { kind: "refunded"; orderId: string; userId: string; amount: number; balanceAfter: number }
  /** A tombstone: the order failed before its OrderPlaced arrived, which then debits nothing. */
  | { kind: "cancelled"; orderId: string; userId: string };

const balanceOf = (state: WalletSagaState, userId: string): number => state.balances.get(userId) ?? 0;

/**
 * OrderPlaced: debit the order's total once, or answer BalanceDebitFailed. An order the wallet
 * already acted on (debited, rejected, refunded, or cancelled by an OrderFailed that overtook this
 * event) is left alone and answered nothing.
 */
function debitForOrder(state: WalletSagaState, event: OrderPlaced, context: DecisionContext) {
  if (state.debits.has(event.orderId)) return ignore<WalletEffect>();
  const { orderId, userId, totalAmount: amount } = event;
  const envelope = { eventId: context.newId(), occurredAt: context.now.toISOString(), orderId, userId };
  const balance = balanceOf(state, userId);
  if (balance < amount) {
    return decision<WalletEffect>(
      [{ kind: "rejected", orderId, userId, amount }],
      [{ type: "BalanceDebitFailed", key: orderId, payload: { ...envelope, reason: "INSUFFICIENT_BALANCE", detail: `balance does not cover ${amount} KRW` } }],
    );
  }
  // A 0 KRW order is debited too (a ledger entry of 0): the saga goes on the same way for every order.
  return decision<WalletEffect>(
    [{ kind: "debited", orderId, userId, amount, balanceAfter: balance - amount }],
    [{ type: "BalanceDebited", key: orderId, payload: { ...envelope, amount, items: event.items } }],
  );
}

/**
 * OrderFailed: refund a debit exactly once (to the user it was taken from); if the order has not
 * been seen yet, leave a tombstone so that a late OrderPlaced does not debit. Answers nothing.
 */
function refundForFailedOrder(state: WalletSagaState, event: OrderFailed) {
  const debit = state.debits.get(event.orderId);
  if (!debit) return decision<WalletEffect>([{ kind: "cancelled", orderId: event.orderId, userId: event.userId }]);
  if (debit.status !== "DEBITED") return ignore<WalletEffect>();
  const { orderId, userId, amount } = debit;
  return decision<WalletEffect>([{ kind: "refunded", orderId, userId, amount, balanceAfter: balanceOf(state, userId) + amount }]);
}

/** The order's debit record once the effect is applied. */
const debitAfter = (effect: WalletEffect): OrderDebit => {
  switch (effect.kind) {
    case "debited":
      return { orderId: effect.orderId, userId: effect.userId, amount: effect.amount, status: "DEBITED" };
    case "rejected":
      return { orderId: effect.orderId, userId: effect.userId, amount: effect.amount, status: "REJECTED" };
    case "refunded":
      return { orderId: effect.orderId, userId: effect.userId, amount: effect.amount, status: "REFUNDED" };
    case "cancelled":
      return { orderId: effect.orderId, userId: effect.userId, amount: 0, status: "CANCELLED" };
  }
};

function evolve(state: WalletSagaState, effect: WalletEffect): WalletSagaState {
  const debits = new Map(state.debits).set(effect.orderId, debitAfter(effect));
  const moved = effect.kind === "debited" || effect.kind === "refunded";
  return { debits, balances: moved ? new Map(state.balances).set(effect.userId, effect.balanceAfter) : state.balances };
}

/** The wallet's part of the order saga: the order's total is debited first and given back if the order fails. */
export const walletParticipant: SagaParticipant<WalletSagaState, WalletEffect> = {
  service: "wallet",
  reactions: {
    OrderPlaced: { consumer: ON_ORDER_PLACED, decide: debitForOrder },
    OrderFailed: { consumer: ON_ORDER_FAILED, decide: refundForFailedOrder },
  },
  evolve,
};
