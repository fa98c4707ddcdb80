import type { FailureCode, Order, OrderStatus, StepStatus, TimelineStep } from "./model.ts";

/** What happened to an order, as the state machine sees it (saga events and the deadline). */
export type SagaSignal =
  | { kind: "BALANCE_DEBITED" }
  | { kind: "STOCK_RESERVED" }
  | { kind: "PAYMENT_COMPLETED"; paymentId: string }
  | { kind: "BALANCE_DEBIT_FAILED" }
  | { kind: "STOCK_RESERVATION_FAILED" }
  | { kind: "PAYMENT_FAILED" }
  | { kind: "DEADLINE_PASSED" };

export interface Transition {
  status: OrderStatus;
  failureCode: FailureCode | null;
  paymentId: string | null;
  /** Steps to record (a step already recorded for the order is not recorded twice). */
  record: { step: TimelineStep; status: StepStatus }[];
  /** The event the order emits because of this transition, if any. */
  emits: "OrderCompleted" | "OrderFailed" | null;
}

const failures: Record<"BALANCE_DEBIT_FAILED" | "STOCK_RESERVATION_FAILED" | "PAYMENT_FAILED" | "DEADLINE_PASSED", { step: TimelineStep; code: FailureCode }> =
  {
    BALANCE_DEBIT_FAILED: { step: "BALANCE_DEBIT_FAILED", code: "INSUFFICIENT_BALANCE" },
    STOCK_RESERVATION_FAILED: { step: "STOCK_RESERVATION_FAILED", code: "OUT_OF_STOCK" },
    PAYMENT_FAILED: { step: "PAYMENT_FAILED", code: "PAYMENT_FAILED" },
    DEADLINE_PASSED: { step: "TIMED_OUT", code: "TIMEOUT" },
  };

/**
 * The order's state machine. PENDING is the only state that changes: to COMPLETED on a payment,
 * to FAILED on any failure or the deadline. COMPLETED and FAILED are final; events arriving
 * afterwards (late, duplicated, or reordered across topics) are recorded and change nothing.
 */
export function nextState(order: Pick<Order, "status" | "failureCode" | "paymentId">, signal: SagaSignal): Transition {
  const unchanged = { status: order.status, failureCode: order.failureCode, paymentId: order.paymentId, emits: null };
  switch (signal.kind) {
    case "BALANCE_DEBITED":
    case "STOCK_RESERVED":
      // Progress of the saga; on a final order it is still true (the participant undoes it on OrderFailed).
      return { ...unchanged, record: [{ step: signal.kind, status: "SUCCEEDED" }] };
    case "PAYMENT_COMPLETED":
      if (order.status === "PENDING") {
        return {
          status: "COMPLETED",
          failureCode: null,
          paymentId: signal.paymentId,
          record: [
            { step: "PAYMENT_COMPLETED", status: "SUCCEEDED" },
            { step: "COMPLETED", status: "SUCCEEDED" },
          ],
          emits: "OrderCompleted",
        };
      }
      // A COMPLETED order has its payment already; a FAILED one never completes (payment cancels on OrderFailed).
      return { ...unchanged, record: order.status === "FAILED" ? [{ step: "PAYMENT_COMPLETED", status: "IGNORED" }] : [] };
    case "BALANCE_DEBIT_FAILED":
    case "STOCK_RESERVATION_FAILED":
    case "PAYMENT_FAILED":
    case "DEADLINE_PASSED": {
      const { step, code } = failures[signal.kind];
      if (order.status === "PENDING") {
        return { status: "FAILED", failureCode: code, paymentId: null, record: [{ step, status: "FAILED" }], emits: "OrderFailed" };
      }
      // The deadline of a final order is irrelevant; a late failure report is kept for the record only.
      return { ...unchanged, record: signal.kind === "DEADLINE_PASSED" ? [] : [{ step, status: "IGNORED" }] };
    }
  }
}
