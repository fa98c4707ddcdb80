import type { OrderFailed, StockReserved } from "@shop/events";
import { foldDecisions, type DecisionContext } from "@shop/saga";
import { build } from "@shop/testing";
import type { PaymentStatus } from "../src/domain/model.ts";
import { judgePayment } from "../src/domain/payment-rules.ts";
import { ON_ORDER_FAILED, ON_STOCK_RESERVED, paymentParticipant, type PaymentEffect, type PaymentSagaState } from "../src/domain/saga-participant.ts";

// Given a state, when a batch of events is decided (and evolved, as the runner does), then these
// effects, these answers and this state. No database: the participant is pure.

const LIMIT = 50_000;
const NOW = new Date("2026-03-04T05:06:07.000Z");
const participant = paymentParticipant({ maxAmount: LIMIT });

/** Deterministic ids, numbered in the order the decisions ask for them. */
const context = (): DecisionContext => {
  let n = 0;
  return { now: NOW, newId: () => `id-${++n}` };
};

function given(options: { failed?: string[]; payments?: Record<string, { paymentId: string; status: PaymentStatus }> } = {}): PaymentSagaState {
  return { failedOrders: new Set(options.failed ?? []), payments: new Map(Object.entries(options.payments ?? {})) };
}

type Batch = { type: "StockReserved"; events: StockReserved[] } | { type: "OrderFailed"; events: OrderFailed[] };

/** Folds a batch as the runner does (the same fold): each event's decision sees the effects of the events before it. */
function when(state: PaymentSagaState, batch: Batch) {
  const ids = context();
  const decide = (current: PaymentSagaState, event: StockReserved | OrderFailed) =>
    batch.type === "StockReserved"
      ? participant.reactions.StockReserved!.decide(current, event as StockReserved, ids)
      : participant.reactions.OrderFailed!.decide(current, event as OrderFailed, ids);
  const {
    effects,
    publish,
    state: after,
  } = foldDecisions<PaymentSagaState, PaymentEffect, StockReserved | OrderFailed>(state, batch.events, decide, (current, effect) =>
    participant.evolve(current, effect),
  );
  return { effects, answers: publish, state: after };
}

const reserved = (events: StockReserved[]): Batch => ({ type: "StockReserved", events });
const failed = (events: OrderFailed[]): Batch => ({ type: "OrderFailed", events });

test("the inbox consumers keep their names, so events handled before the kit stay handled", () => {
  expect(participant.service).toBe("payment");
  expect(participant.reactions.StockReserved!.consumer).toBe(ON_STOCK_RESERVED);
  expect(participant.reactions.OrderFailed!.consumer).toBe(ON_ORDER_FAILED);
  expect([ON_STOCK_RESERVED, ON_ORDER_FAILED]).toEqual(["payment.take-payment", "payment.cancel-payment"]);
  expect(Object.keys(participant.reactions).sort()).toEqual(["OrderFailed", "StockReserved"]);
});

describe("StockReserved: take the payment once", () => {
  test("given no payment, when stock is reserved within the limit, then a COMPLETED payment and PaymentCompleted", () => {
    const event = build.stockReserved({ amount: 12_000 });
    const { effects, answers, state } = when(given(), reserved([event]));
    expect(effects).toEqual([{ kind: "taken", paymentId: "id-1", orderId: event.orderId, userId: event.userId, amount: 12_000 }]);
    expect(answers).toEqual([
      {
        type: "PaymentCompleted",
        key: event.orderId,
        payload: { eventId: "id-2", occurredAt: NOW.toISOString(), orderId: event.orderId, userId: event.userId, paymentId: "id-1", amount: 12_000 },
      },
    ]);
    expect(state.payments.get(event.orderId)).toEqual({ paymentId: "id-1", status: "COMPLETED" });
  });

  test("given no payment, when the amount is exactly the limit, then it is taken", () => {
    const event = build.stockReserved({ amount: LIMIT });
    const { effects, answers } = when(given(), reserved([event]));
    expect(effects).toEqual([expect.objectContaining({ kind: "taken", amount: LIMIT })]);
    expect(answers.map((a) => a.type)).toEqual(["PaymentCompleted"]);
  });

  test("given no payment, when the amount is over the limit, then a FAILED payment with the verdict's detail and PaymentFailed (PAYMENT_FAILED)", () => {
    const event = build.stockReserved({ amount: LIMIT + 1 });
    const detail = (judgePayment(LIMIT + 1, LIMIT) as { detail: string }).detail;
    const { effects, answers, state } = when(given(), reserved([event]));
    expect(effects).toEqual([{ kind: "declined", paymentId: "id-1", orderId: event.orderId, userId: event.userId, amount: LIMIT + 1, reason: detail }]);
    expect(answers).toEqual([
      {
        type: "PaymentFailed",
        key: event.orderId,
        payload: { eventId: "id-2", occurredAt: NOW.toISOString(), orderId: event.orderId, userId: event.userId, reason: "PAYMENT_FAILED", detail },
      },
    ]);
    expect(detail).toContain(`limit of ${LIMIT} KRW`);
    expect(state.payments.get(event.orderId)).toEqual({ paymentId: "id-1", status: "FAILED" });
  });

  test("given the order failed first (a tombstone), when stock is reserved late, then no payment and no answer", () => {
    const event = build.stockReserved();
    const { effects, answers, state } = when(given({ failed: [event.orderId] }), reserved([event]));
    expect(effects).toEqual([]);
    expect(answers).toEqual([]);
    expect(state.payments.has(event.orderId)).toBe(false);
  });

  test.each<PaymentStatus>(["COMPLETED", "FAILED", "CANCELLED"])(
    "given a %s payment, when StockReserved comes again with another eventId, then nothing",
    (status) => {
      const event = build.stockReserved();
      const { effects, answers } = when(given({ payments: { [event.orderId]: { paymentId: "earlier", status } } }), reserved([event]));
      expect(effects).toEqual([]);
      expect(answers).toEqual([]);
    },
  );

  test("given nothing, when one batch holds the same order twice (another eventId), then the second sees the first's payment: one payment, one answer", () => {
    const event = build.stockReserved();
    const again = { ...event, eventId: "another-event" };
    const { effects, answers } = when(given(), reserved([event, again]));
    expect(effects).toHaveLength(1);
    expect(answers.map((a) => [a.type, a.key])).toEqual([["PaymentCompleted", event.orderId]]);
  });

  test("given nothing, when one batch holds two orders of the same user that together exceed the limit, then both are taken: the limit is per transaction", () => {
    const first = build.stockReserved({ userId: "same-user", amount: LIMIT });
    const second = build.stockReserved({ userId: "same-user", amount: LIMIT });
    const { effects, answers, state } = when(given(), reserved([first, second]));
    expect(effects).toEqual([
      { kind: "taken", paymentId: "id-1", orderId: first.orderId, userId: "same-user", amount: LIMIT },
      { kind: "taken", paymentId: "id-3", orderId: second.orderId, userId: "same-user", amount: LIMIT },
    ]);
    expect(answers.map((a) => a.type)).toEqual(["PaymentCompleted", "PaymentCompleted"]);
    expect([...state.payments.keys()]).toEqual([first.orderId, second.orderId]);
  });

  test("given one failed order, when a batch mixes it with an over-limit and a payable order, then each is decided on its own", () => {
    const tombstoned = build.stockReserved();
    const over = build.stockReserved({ amount: LIMIT + 1 });
    const payable = build.stockReserved();
    const { effects, answers } = when(given({ failed: [tombstoned.orderId] }), reserved([tombstoned, over, payable]));
    expect(effects.map((e) => [e.kind, e.orderId])).toEqual([
      ["declined", over.orderId],
      ["taken", payable.orderId],
    ]);
    expect(answers.map((a) => [a.type, a.key])).toEqual([
      ["PaymentFailed", over.orderId],
      ["PaymentCompleted", payable.orderId],
    ]);
  });

  test("the given state is not changed: evolve makes a new one", () => {
    const state = given();
    when(state, reserved([build.stockReserved()]));
    expect(state.payments.size).toBe(0);
  });
});

describe("OrderFailed: cancel the payment, or remember the failure", () => {
  test("given no payment, when the order fails, then the failure is recorded (a tombstone), and a late StockReserved takes nothing", () => {
    const late = build.stockReserved();
    const failure = build.orderFailed({ orderId: late.orderId, userId: late.userId, failureCode: "TIMEOUT" });
    const first = when(given(), failed([failure]));
    expect(first.effects).toEqual([{ kind: "failureRecorded", orderId: late.orderId, userId: late.userId, failureCode: "TIMEOUT" }]);
    expect(first.answers).toEqual([]);

    const after = when(first.state, reserved([late]));
    expect(after.effects).toEqual([]);
    expect(after.answers).toEqual([]);
  });

  test("given a COMPLETED payment, when the order fails, then the failure is recorded and the payment CANCELLED, without answers", () => {
    const failure = build.orderFailed({ failureCode: "TIMEOUT" });
    const { effects, answers, state } = when(given({ payments: { [failure.orderId]: { paymentId: "p-1", status: "COMPLETED" } } }), failed([failure]));
    expect(effects).toEqual([
      { kind: "failureRecorded", orderId: failure.orderId, userId: failure.userId, failureCode: "TIMEOUT" },
      { kind: "cancelled", orderId: failure.orderId, paymentId: "p-1" },
    ]);
    expect(answers).toEqual([]);
    expect(state.payments.get(failure.orderId)).toEqual({ paymentId: "p-1", status: "CANCELLED" });
  });

  test("given a declined (FAILED) payment, when the order fails, then only the failure is recorded: the payment stays FAILED", () => {
    const failure = build.orderFailed({ failureCode: "PAYMENT_FAILED" });
    const { effects, state } = when(given({ payments: { [failure.orderId]: { paymentId: "p-1", status: "FAILED" } } }), failed([failure]));
    expect(effects).toEqual([{ kind: "failureRecorded", orderId: failure.orderId, userId: failure.userId, failureCode: "PAYMENT_FAILED" }]);
    expect(state.payments.get(failure.orderId)).toEqual({ paymentId: "p-1", status: "FAILED" });
  });

  test("given the order already failed and its payment CANCELLED, when another OrderFailed comes (another eventId and code), then nothing: compensation once, first code kept", () => {
    const failure = build.orderFailed({ failureCode: "OUT_OF_STOCK" });
    const { effects, answers } = when(
      given({ failed: [failure.orderId], payments: { [failure.orderId]: { paymentId: "p-1", status: "CANCELLED" } } }),
      failed([failure]),
    );
    expect(effects).toEqual([]);
    expect(answers).toEqual([]);
  });

  test("given a COMPLETED payment, when one batch fails the order twice, then one failure (the first code) and one cancellation", () => {
    const failure = build.orderFailed({ failureCode: "TIMEOUT" });
    const again = { ...failure, eventId: "another-event", failureCode: "PAYMENT_FAILED" };
    const { effects } = when(given({ payments: { [failure.orderId]: { paymentId: "p-1", status: "COMPLETED" } } }), failed([failure, again]));
    expect(effects).toEqual([
      { kind: "failureRecorded", orderId: failure.orderId, userId: failure.userId, failureCode: "TIMEOUT" },
      { kind: "cancelled", orderId: failure.orderId, paymentId: "p-1" },
    ]);
  });

  test("given two orders of the same user, one paid and one not, when both fail in one batch, then each gets its own compensation", () => {
    const paid = build.orderFailed({ userId: "same-user" });
    const unpaid = build.orderFailed({ userId: "same-user" });
    const { effects } = when(given({ payments: { [paid.orderId]: { paymentId: "p-1", status: "COMPLETED" } } }), failed([paid, unpaid]));
    expect(effects.map((e) => [e.kind, e.orderId])).toEqual([
      ["failureRecorded", paid.orderId],
      ["cancelled", paid.orderId],
      ["failureRecorded", unpaid.orderId],
    ]);
  });
});
