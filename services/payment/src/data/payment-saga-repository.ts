import type { SqlTransaction } from "@shop/outbox";
import type { ParticipantRepository, SagaEvent } from "@shop/saga";
import type { PaymentStatus } from "../domain/model.ts";
import type { OrderPayment, PaymentEffect, PaymentSagaState } from "../domain/saga-participant.ts";

/** One order of the batch: its tombstone and its payment (the payment columns are null without one). */
interface OrderStateRow {
  order_id: string;
  failed: boolean;
  payment_id: string | null;
  status: PaymentStatus | null;
}

/**
 * One statement for the whole batch: every order's tombstone and payment (LEFT JOIN from the
 * batch's order ids, so each order has a row). No row locks: the runner holds every order's
 * advisory lock (`payment:order:<id>`), which all payment work on an order takes, and the decisions
 * share no rows across orders (the provider's limit is per transaction).
 */
const ORDER_STATES_SQL = `
  SELECT o.order_id,
         EXISTS (SELECT 1 FROM failed_orders f WHERE f.order_id = o.order_id) AS failed,
         p.payment_id::text, p.status
  FROM unnest($1::text[]) AS o(order_id)
  LEFT JOIN payments p ON p.order_id = o.order_id`;

/** New payments (taken or declined), one row per element of the arrays; created_at is the transaction's time. */
const INSERT_PAYMENTS_SQL = `
  INSERT INTO payments (payment_id, order_id, user_id, amount, status, failure_reason)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::payment_status[], $6::text[])`;

/** Idempotent: an order's first failure is the one kept. */
const RECORD_FAILED_ORDERS_SQL = `
  INSERT INTO failed_orders (order_id, user_id, failure_code)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
  ON CONFLICT DO NOTHING`;

/** Only a COMPLETED payment is cancelled: the guard keeps a declined (FAILED) one declined whatever the caller says. */
const CANCEL_COMPLETED_SQL = `
  UPDATE payments SET status = 'CANCELLED', updated_at = now()
  WHERE payment_id = ANY($1::uuid[]) AND status = 'COMPLETED'`;

type NewPayment = Extract<PaymentEffect, { kind: "taken" | "declined" }>;
type FailureRecorded = Extract<PaymentEffect, { kind: "failureRecorded" }>;
type Cancelled = Extract<PaymentEffect, { kind: "cancelled" }>;

const statusOf = (effect: NewPayment): PaymentStatus => (effect.kind === "taken" ? "COMPLETED" : "FAILED");

/** The payment participant's state in PostgreSQL (plain pg, in the runner's transaction). */
export const paymentSagaRepository: ParticipantRepository<PaymentSagaState, PaymentEffect> = {
  async load(tx: SqlTransaction, events: SagaEvent[]): Promise<PaymentSagaState> {
    const rows = await tx.query<OrderStateRow>(ORDER_STATES_SQL, [[...new Set(events.map((e) => e.orderId))]]);
    const failedOrders = new Set<string>();
    const payments = new Map<string, OrderPayment>();
    for (const row of rows) {
      if (row.failed) failedOrders.add(row.order_id);
      if (row.payment_id !== null && row.status !== null) payments.set(row.order_id, { paymentId: row.payment_id, status: row.status });
    }
    return { failedOrders, payments };
  },

  // One statement per kind of change, each skipped when the batch has none.
  async save(tx: SqlTransaction, effects: PaymentEffect[]): Promise<void> {
    const newPayments = effects.filter((e): e is NewPayment => e.kind === "taken" || e.kind === "declined");
    const failures = effects.filter((e): e is FailureRecorded => e.kind === "failureRecorded");
    const cancelled = effects.filter((e): e is Cancelled => e.kind === "cancelled");
    if (newPayments.length > 0) {
      await tx.execute(INSERT_PAYMENTS_SQL, [
        newPayments.map((p) => p.paymentId),
        newPayments.map((p) => p.orderId),
        newPayments.map((p) => p.userId),
        newPayments.map((p) => p.amount),
        newPayments.map(statusOf),
        newPayments.map((p) => (p.kind === "declined" ? p.reason : null)),
      ]);
    }
    if (failures.length > 0) {
      await tx.execute(RECORD_FAILED_ORDERS_SQL, [failures.map((f) => f.orderId), failures.map((f) => f.userId), failures.map((f) => f.failureCode)]);
    }
    if (cancelled.length > 0) await tx.execute(CANCEL_COMPLETED_SQL, [cancelled.map((c) => c.paymentId)]);
  },
};
