import type { Order } from "../src/domain/model.ts";
import { nextState, type SagaSignal } from "../src/domain/order-state.ts";

type State = Pick<Order, "status" | "failureCode" | "paymentId">;
const pending: State = { status: "PENDING", failureCode: null, paymentId: null };
const completed: State = { status: "COMPLETED", failureCode: null, paymentId: "pay-1" };
const failed: State = { status: "FAILED", failureCode: "TIMEOUT", paymentId: null };

const failures: [SagaSignal, string, string][] = [
  [{ kind: "BALANCE_DEBIT_FAILED" }, "INSUFFICIENT_BALANCE", "BALANCE_DEBIT_FAILED"],
  [{ kind: "STOCK_RESERVATION_FAILED" }, "OUT_OF_STOCK", "STOCK_RESERVATION_FAILED"],
  [{ kind: "PAYMENT_FAILED" }, "PAYMENT_FAILED", "PAYMENT_FAILED"],
  [{ kind: "DEADLINE_PASSED" }, "TIMEOUT", "TIMED_OUT"],
];

describe("from PENDING", () => {
  test.each([["BALANCE_DEBITED"], ["STOCK_RESERVED"]] as const)("%s is progress: recorded, still PENDING, nothing emitted", (kind) => {
    expect(nextState(pending, { kind })).toEqual({ ...pending, record: [{ step: kind, status: "SUCCEEDED" }], emits: null });
  });

  test("PAYMENT_COMPLETED completes the order with the payment and emits OrderCompleted", () => {
    expect(nextState(pending, { kind: "PAYMENT_COMPLETED", paymentId: "pay-9" })).toEqual({
      status: "COMPLETED",
      failureCode: null,
      paymentId: "pay-9",
      record: [
        { step: "PAYMENT_COMPLETED", status: "SUCCEEDED" },
        { step: "COMPLETED", status: "SUCCEEDED" },
      ],
      emits: "OrderCompleted",
    });
  });

  test.each(failures)("%o fails the order with %s and emits OrderFailed", (signal, code, step) => {
    expect(nextState(pending, signal)).toEqual({
      status: "FAILED",
      failureCode: code,
      paymentId: null,
      record: [{ step, status: "FAILED" }],
      emits: "OrderFailed",
    });
  });
});

describe("COMPLETED is final", () => {
  test("a repeated payment changes nothing and records nothing", () => {
    expect(nextState(completed, { kind: "PAYMENT_COMPLETED", paymentId: "pay-2" })).toEqual({ ...completed, record: [], emits: null });
  });

  test.each(failures.filter(([s]) => s.kind !== "DEADLINE_PASSED"))("a late %o is recorded as IGNORED; the order stays COMPLETED", (signal, _code, step) => {
    expect(nextState(completed, signal)).toEqual({ ...completed, record: [{ step, status: "IGNORED" }], emits: null });
  });

  test("the deadline of a completed order is irrelevant", () => {
    expect(nextState(completed, { kind: "DEADLINE_PASSED" })).toEqual({ ...completed, record: [], emits: null });
  });

  test("progress reordered behind the payment is still recorded", () => {
    expect(nextState(completed, { kind: "STOCK_RESERVED" })).toEqual({ ...completed, record: [{ step: "STOCK_RESERVED", status: "SUCCEEDED" }], emits: null });
  });
});

describe("FAILED is final", () => {
  test("a payment after the failure (e.g. after TIMEOUT) is IGNORED: no completion, the failure code stays", () => {
    expect(nextState(failed, { kind: "PAYMENT_COMPLETED", paymentId: "pay-3" })).toEqual({
      ...failed,
      record: [{ step: "PAYMENT_COMPLETED", status: "IGNORED" }],
      emits: null,
    });
  });

  test.each(failures.filter(([s]) => s.kind !== "DEADLINE_PASSED"))(
    "a second failure %o keeps the first failure code and emits nothing",
    (signal, _code, step) => {
      expect(nextState(failed, signal)).toEqual({ ...failed, record: [{ step, status: "IGNORED" }], emits: null });
    },
  );

  test("a late debit is recorded (the wallet refunds it on OrderFailed) and changes nothing", () => {
    expect(nextState(failed, { kind: "BALANCE_DEBITED" })).toEqual({ ...failed, record: [{ step: "BALANCE_DEBITED", status: "SUCCEEDED" }], emits: null });
  });
});

test("only PENDING ever emits, so any sequence of signals emits at most one final event", () => {
  const signals: SagaSignal[] = [
    { kind: "BALANCE_DEBITED" },
    { kind: "PAYMENT_COMPLETED", paymentId: "p" },
    { kind: "PAYMENT_FAILED" },
    { kind: "DEADLINE_PASSED" },
    { kind: "PAYMENT_COMPLETED", paymentId: "q" },
    { kind: "STOCK_RESERVATION_FAILED" },
  ];
  // Every order of these signals, applied one after another.
  const permutations = (list: SagaSignal[]): SagaSignal[][] =>
    list.length <= 1 ? [list] : list.flatMap((s, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [s, ...rest]));
  for (const sequence of permutations(signals)) {
    let state: State = pending;
    const emitted: string[] = [];
    for (const signal of sequence) {
      const t = nextState(state, signal);
      if (t.emits) emitted.push(t.emits);
      state = { status: t.status, failureCode: t.failureCode, paymentId: t.paymentId };
    }
    expect(emitted).toHaveLength(1);
    expect(state.status).toBe(emitted[0] === "OrderCompleted" ? "COMPLETED" : "FAILED");
  }
});
