import { foldDecisions, type DecisionContext } from "@shop/saga";
import { build } from "@shop/testing";
import { decideSignal, evolveOrderSaga, orderSagaParticipant, sagaStateOf, type SagaOrder } from "../src/domain/saga-participant.ts";

const now = new Date("2026-11-29T10:00:00.000Z");
let ids = 0;
const context: DecisionContext = { now, newId: () => `id-${++ids}` };

const order = (overrides: Partial<SagaOrder> = {}): SagaOrder => ({
  orderId: "o-1",
  userId: "u-1",
  status: "PENDING",
  items: [{ productId: "p-1", name: "Product 1", quantity: 2, unitPrice: 500 }],
  subtotal: 1000,
  discountAmount: 100,
  totalAmount: 900,
  userCouponId: "uc-1",
  paymentId: null,
  failureCode: null,
  completionEventId: "completion-1",
  ...overrides,
});

const reactions = orderSagaParticipant.reactions;
/** Decides a batch of one event type as the kit does: in order, each on the state the ones before it left. */
const batch = <E extends "PaymentCompleted" | "PaymentFailed" | "BalanceDebited">(
  type: E,
  orders: SagaOrder[],
  events: Parameters<NonNullable<(typeof reactions)[E]>["decide"]>[1][],
) => foldDecisions(sagaStateOf(orders), events, (state, event) => reactions[type]!.decide(state, event as never, context), evolveOrderSaga);

beforeEach(() => (ids = 0));

test("given a PENDING order, when its payment completes, then it is COMPLETED with the payment and OrderCompleted carries the order", () => {
  const { effects, publish, state } = batch("PaymentCompleted", [order()], [build.paymentCompleted({ orderId: "o-1", paymentId: "pay-1" })]);
  expect(effects).toEqual([
    {
      kind: "steps-recorded",
      orderId: "o-1",
      entries: [
        { step: "PAYMENT_COMPLETED", status: "SUCCEEDED", at: now },
        { step: "COMPLETED", status: "SUCCEEDED", at: now },
      ],
    },
    { kind: "status-changed", orderId: "o-1", status: "COMPLETED", failureCode: null, paymentId: "pay-1" },
  ]);
  expect(publish).toEqual([
    {
      type: "OrderCompleted",
      key: "o-1",
      payload: {
        eventId: "completion-1",
        orderId: "o-1",
        userId: "u-1",
        items: [{ productId: "p-1", name: "Product 1", quantity: 2, unitPrice: 500 }],
        subtotal: 1000,
        discountAmount: 100,
        totalAmount: 900,
        paymentId: "pay-1",
        completedAt: now.toISOString(),
      },
    },
  ]);
  expect(state.orders.get("o-1")).toMatchObject({ status: "COMPLETED", paymentId: "pay-1" });
});

test("given a PENDING order, when a participant fails it, then it is FAILED and OrderFailed names the coupon it holds", () => {
  const { effects, publish } = batch("PaymentFailed", [order()], [build.paymentFailed({ orderId: "o-1" })]);
  expect(effects).toContainEqual({ kind: "status-changed", orderId: "o-1", status: "FAILED", failureCode: "PAYMENT_FAILED", paymentId: null });
  expect(publish).toEqual([
    {
      type: "OrderFailed",
      key: "o-1",
      payload: { eventId: "id-1", occurredAt: now.toISOString(), orderId: "o-1", userId: "u-1", failureCode: "PAYMENT_FAILED", userCouponId: "uc-1" },
    },
  ]);
});

test("given one batch with two payments of the same order, when decided, then the second sees the first: one completion, the late one changes nothing", () => {
  const { effects, publish } = batch(
    "PaymentCompleted",
    [order()],
    [build.paymentCompleted({ orderId: "o-1", paymentId: "pay-1" }), build.paymentCompleted({ orderId: "o-1", paymentId: "pay-2" })],
  );
  expect(publish).toHaveLength(1);
  expect(effects.filter((e) => e.kind === "status-changed")).toEqual([
    { kind: "status-changed", orderId: "o-1", status: "COMPLETED", failureCode: null, paymentId: "pay-1" },
  ]);
});

test("given a FAILED order, when its payment completes late, then the step is recorded as IGNORED and nothing is emitted", () => {
  const { effects, publish } = batch("PaymentCompleted", [order({ status: "FAILED", failureCode: "TIMEOUT" })], [build.paymentCompleted({ orderId: "o-1" })]);
  expect(effects).toEqual([{ kind: "steps-recorded", orderId: "o-1", entries: [{ step: "PAYMENT_COMPLETED", status: "IGNORED", at: now }] }]);
  expect(publish).toEqual([]);
});

test("given progress on a PENDING order, when the balance is debited, then only the step is recorded", () => {
  const { effects, publish } = batch("BalanceDebited", [order()], [build.balanceDebited({ orderId: "o-1" })]);
  expect(effects).toEqual([{ kind: "steps-recorded", orderId: "o-1", entries: [{ step: "BALANCE_DEBITED", status: "SUCCEEDED", at: now }] }]);
  expect(publish).toEqual([]);
});

test("given no such order, when an event names it, then nothing happens (not an order of this service)", () => {
  expect(batch("BalanceDebited", [], [build.balanceDebited({ orderId: "elsewhere" })])).toEqual({ state: sagaStateOf([]), effects: [], publish: [] });
});

test("given a PENDING order past its deadline, when the deadline is decided, then it fails with TIMEOUT; a COMPLETED one is left alone", () => {
  const state = sagaStateOf([order(), order({ orderId: "o-2", status: "COMPLETED", paymentId: "pay-2" })]);
  expect(decideSignal(state, "o-1", { kind: "DEADLINE_PASSED" }, context).publish).toMatchObject([
    { type: "OrderFailed", payload: { failureCode: "TIMEOUT" } },
  ]);
  expect(decideSignal(state, "o-2", { kind: "DEADLINE_PASSED" }, context)).toEqual({ effects: [], publish: [] });
});
