import type { DomainEvent, OrderFailed, OrderPlaced } from "@shop/events";
import type { DecisionContext } from "@shop/saga";
import { build } from "@shop/testing";
import type { OrderDebit, OrderDebitStatus } from "../src/domain/model.ts";
import { ON_ORDER_FAILED, ON_ORDER_PLACED, walletParticipant, type WalletEffect, type WalletSagaState } from "../src/domain/saga-participant.ts";

// Given a state, when a batch of events is decided (and evolved, as the runner does), then these
// effects, these answers and this state. No database: the participant is pure.

const NOW = new Date("2026-03-04T05:06:07.000Z");
const participant = walletParticipant;

/** Deterministic ids, numbered in the order the decisions ask for them. */
const context = (): DecisionContext => {
  let n = 0;
  return { now: NOW, newId: () => `id-${++n}` };
};

function given(options: { balances?: Record<string, number>; debits?: OrderDebit[] } = {}): WalletSagaState {
  return {
    balances: new Map(Object.entries(options.balances ?? {})),
    debits: new Map((options.debits ?? []).map((d) => [d.orderId, d])),
  };
}

const debit = (orderId: string, status: OrderDebitStatus, amount = 1000, userId = "user-1"): OrderDebit => ({ orderId, userId, amount, status });

type Batch = { type: "OrderPlaced"; events: OrderPlaced[] } | { type: "OrderFailed"; events: OrderFailed[] };

/** Folds a batch as the runner does: each event's decision sees the effects of the events before it. */
function when(state: WalletSagaState, batch: Batch) {
  const ids = context();
  const effects: WalletEffect[] = [];
  const answers: DomainEvent[] = [];
  for (const event of batch.events) {
    const decided =
      batch.type === "OrderPlaced"
        ? participant.reactions.OrderPlaced!.decide(state, event as OrderPlaced, ids)
        : participant.reactions.OrderFailed!.decide(state, event as OrderFailed, ids);
    for (const effect of decided.effects) state = participant.evolve(state, effect);
    effects.push(...decided.effects);
    answers.push(...decided.publish);
  }
  return { effects, answers, state };
}

const placed = (events: OrderPlaced[]): Batch => ({ type: "OrderPlaced", events });
const failed = (events: OrderFailed[]): Batch => ({ type: "OrderFailed", events });
const order = (userId: string, totalAmount: number) => build.orderPlaced({ userId, totalAmount });

test("the inbox consumers keep their names, so events handled before the kit stay handled", () => {
  expect(participant.service).toBe("wallet");
  expect(participant.reactions.OrderPlaced!.consumer).toBe(ON_ORDER_PLACED);
  expect(participant.reactions.OrderFailed!.consumer).toBe(ON_ORDER_FAILED);
  expect([ON_ORDER_PLACED, ON_ORDER_FAILED]).toEqual(["wallet.debit-order", "wallet.refund-order"]);
  expect(Object.keys(participant.reactions).sort()).toEqual(["OrderFailed", "OrderPlaced"]);
});

describe("OrderPlaced: debit the total once, or refuse", () => {
  test("given a balance that covers the total, when the order is placed, then it is debited and BalanceDebited carries the items", () => {
    const event = build.orderPlaced({ userId: "u", items: [build.item({ productId: "p-7", quantity: 2, unitPrice: 600 })] });
    const { effects, answers, state } = when(given({ balances: { u: 5000 } }), placed([event]));
    expect(effects).toEqual([{ kind: "debited", orderId: event.orderId, userId: "u", amount: 1200, balanceAfter: 3800 }]);
    expect(answers).toEqual([
      {
        type: "BalanceDebited",
        key: event.orderId,
        payload: { eventId: "id-1", occurredAt: NOW.toISOString(), orderId: event.orderId, userId: "u", amount: 1200, items: event.items },
      },
    ]);
    expect(state.balances.get("u")).toBe(3800);
    expect(state.debits.get(event.orderId)).toEqual(debit(event.orderId, "DEBITED", 1200, "u"));
  });

  test("given a balance equal to the total, when the order is placed, then it is debited down to 0", () => {
    const event = order("u", 700);
    const { effects, state } = when(given({ balances: { u: 700 } }), placed([event]));
    expect(effects).toEqual([{ kind: "debited", orderId: event.orderId, userId: "u", amount: 700, balanceAfter: 0 }]);
    expect(state.balances.get("u")).toBe(0);
  });

  test("given a balance 1 KRW short, when the order is placed, then it is rejected with BalanceDebitFailed and the balance stays", () => {
    const event = order("u", 101);
    const { effects, answers, state } = when(given({ balances: { u: 100 } }), placed([event]));
    expect(effects).toEqual([{ kind: "rejected", orderId: event.orderId, userId: "u", amount: 101 }]);
    expect(answers).toEqual([
      {
        type: "BalanceDebitFailed",
        key: event.orderId,
        payload: {
          eventId: "id-1",
          occurredAt: NOW.toISOString(),
          orderId: event.orderId,
          userId: "u",
          reason: "INSUFFICIENT_BALANCE",
          detail: "balance does not cover 101 KRW",
        },
      },
    ]);
    expect(state.balances.get("u")).toBe(100);
    expect(state.debits.get(event.orderId)?.status).toBe("REJECTED");
  });

  test("given a user without a wallet, when a 0 KRW order is placed, then it is still a debit (of 0); a 1 KRW order is rejected", () => {
    const free = order("new", 0);
    const paid = order("new", 1);
    const { effects, answers } = when(given(), placed([free, paid]));
    expect(effects).toEqual([
      { kind: "debited", orderId: free.orderId, userId: "new", amount: 0, balanceAfter: 0 },
      { kind: "rejected", orderId: paid.orderId, userId: "new", amount: 1 },
    ]);
    expect(answers.map((a) => a.type)).toEqual(["BalanceDebited", "BalanceDebitFailed"]);
  });

  test.each<OrderDebitStatus>(["CANCELLED", "DEBITED", "REJECTED", "REFUNDED"])(
    "given the order's debit is already %s, when OrderPlaced arrives, then nothing happens and nothing is answered",
    (status) => {
      const event = order("u", 300);
      const before = given({ balances: { u: 5000 }, debits: [debit(event.orderId, status, 300, "u")] });
      const { effects, answers, state } = when(before, placed([event]));
      expect(effects).toEqual([]);
      expect(answers).toEqual([]);
      expect(state).toBe(before);
    },
  );

  test("given one batch holding the same order twice (a redelivery under a new event id), then it is debited and answered once", () => {
    const event = order("u", 400);
    const { effects, answers, state } = when(given({ balances: { u: 1000 } }), placed([event, { ...event, eventId: "another-delivery" }]));
    expect(effects).toEqual([{ kind: "debited", orderId: event.orderId, userId: "u", amount: 400, balanceAfter: 600 }]);
    expect(answers).toHaveLength(1);
    expect(state.balances.get("u")).toBe(600);
  });

  test("given several orders of one user in one batch, then each sees the balance the ones before it left: the one that does not fit is rejected, later ones that fit are debited", () => {
    const [first, second, tooBig, last] = [order("u", 600), order("u", 300), order("u", 200), order("u", 100)];
    const { effects, answers, state } = when(given({ balances: { u: 1000 } }), placed([first, second, tooBig, last]));
    expect(effects).toEqual([
      { kind: "debited", orderId: first.orderId, userId: "u", amount: 600, balanceAfter: 400 },
      { kind: "debited", orderId: second.orderId, userId: "u", amount: 300, balanceAfter: 100 },
      { kind: "rejected", orderId: tooBig.orderId, userId: "u", amount: 200 },
      { kind: "debited", orderId: last.orderId, userId: "u", amount: 100, balanceAfter: 0 },
    ]);
    expect(answers.map((a) => [a.type, a.payload.eventId])).toEqual([
      ["BalanceDebited", "id-1"],
      ["BalanceDebited", "id-2"],
      ["BalanceDebitFailed", "id-3"],
      ["BalanceDebited", "id-4"],
    ]);
    expect(state.balances.get("u")).toBe(0);
  });

  test("given orders of two users in one batch, then each is debited from its own balance", () => {
    const [ofA, ofB] = [order("a", 800), order("b", 800)];
    const { effects, state } = when(given({ balances: { a: 1000, b: 500 } }), placed([ofA, ofB]));
    expect(effects.map((e) => e.kind)).toEqual(["debited", "rejected"]);
    expect(state.balances).toEqual(
      new Map([
        ["a", 200],
        ["b", 500],
      ]),
    );
  });
});

describe("OrderFailed: refund once, or leave a tombstone", () => {
  test("given a DEBITED order, when it fails, then the amount goes back to the user it was taken from and nothing is answered", () => {
    const event = build.orderFailed({ userId: "someone-else" });
    const { effects, answers, state } = when(given({ balances: { u: 250 }, debits: [debit(event.orderId, "DEBITED", 1500, "u")] }), failed([event]));
    expect(effects).toEqual([{ kind: "refunded", orderId: event.orderId, userId: "u", amount: 1500, balanceAfter: 1750 }]);
    expect(answers).toEqual([]);
    expect(state.balances.get("u")).toBe(1750);
    expect(state.balances.has("someone-else")).toBe(false);
    expect(state.debits.get(event.orderId)?.status).toBe("REFUNDED");
  });

  test("given a DEBITED order, when two distinct failure notices arrive in one batch, then it is refunded once", () => {
    const event = build.orderFailed({ userId: "u" });
    const again = build.orderFailed({ orderId: event.orderId, userId: "u" });
    const { effects, state } = when(given({ balances: { u: 0 }, debits: [debit(event.orderId, "DEBITED", 500, "u")] }), failed([event, again]));
    expect(effects).toEqual([{ kind: "refunded", orderId: event.orderId, userId: "u", amount: 500, balanceAfter: 500 }]);
    expect(state.balances.get("u")).toBe(500);
  });

  test("given two DEBITED orders of one user, when both fail in one batch, then the second refund starts from the balance the first left", () => {
    const [one, two] = [build.orderFailed({ userId: "u" }), build.orderFailed({ userId: "u" })];
    const before = given({ balances: { u: 100 }, debits: [debit(one.orderId, "DEBITED", 300, "u"), debit(two.orderId, "DEBITED", 200, "u")] });
    const { effects } = when(before, failed([one, two]));
    expect(effects).toEqual([
      { kind: "refunded", orderId: one.orderId, userId: "u", amount: 300, balanceAfter: 400 },
      { kind: "refunded", orderId: two.orderId, userId: "u", amount: 200, balanceAfter: 600 },
    ]);
  });

  test("given an order the wallet has not seen, when it fails, then a CANCELLED tombstone is left and nothing is answered", () => {
    const event = build.orderFailed({ userId: "u" });
    const { effects, answers, state } = when(given({ balances: { u: 900 } }), failed([event]));
    expect(effects).toEqual([{ kind: "cancelled", orderId: event.orderId, userId: "u" }]);
    expect(answers).toEqual([]);
    expect(state.debits.get(event.orderId)).toEqual(debit(event.orderId, "CANCELLED", 0, "u"));
    expect(state.balances.get("u")).toBe(900);
  });

  test("given the tombstone, when the late OrderPlaced arrives, then nothing is debited", () => {
    const placedEvent = order("u", 300);
    const afterFailure = when(given({ balances: { u: 900 } }), failed([build.orderFailed({ orderId: placedEvent.orderId, userId: "u" })])).state;
    const { effects, answers, state } = when(afterFailure, placed([placedEvent]));
    expect(effects).toEqual([]);
    expect(answers).toEqual([]);
    expect(state.balances.get("u")).toBe(900);
  });

  test("given an unseen order failing twice in one batch, then one tombstone", () => {
    const event = build.orderFailed({ userId: "u" });
    const { effects } = when(given(), failed([event, { ...event, eventId: "again" }]));
    expect(effects).toEqual([{ kind: "cancelled", orderId: event.orderId, userId: "u" }]);
  });

  test.each<OrderDebitStatus>(["REJECTED", "REFUNDED", "CANCELLED"])("given the order's debit is %s, when it fails, then nothing happens", (status) => {
    const event = build.orderFailed({ userId: "u" });
    const before = given({ balances: { u: 50 }, debits: [debit(event.orderId, status, 700, "u")] });
    const { effects, answers, state } = when(before, failed([event]));
    expect(effects).toEqual([]);
    expect(answers).toEqual([]);
    expect(state).toBe(before);
  });
});

test("evolve returns a new state and leaves the one it was given as it was", () => {
  const before = given({ balances: { u: 1000 } });
  const after = participant.evolve(before, { kind: "debited", orderId: "o-1", userId: "u", amount: 400, balanceAfter: 600 });
  expect(after.balances.get("u")).toBe(600);
  expect(before.balances.get("u")).toBe(1000);
  expect(before.debits.size).toBe(0);
});
