import { appendEvents, claimInboxEvent, inTransaction, lockOrder, type createSqlPool, type SqlTransaction } from "@shop/outbox";
import type { Payment, PaymentStatus } from "../domain/model.ts";
import type { DomainEvent, OrderPaymentState, PaymentStore, PaymentTransaction } from "../domain/ports.ts";

export type SqlPool = ReturnType<typeof createSqlPool>;

/** A `payments` row as pg returns it: BIGINT as a string, TIMESTAMPTZ as a Date. */
interface PaymentRow {
  payment_id: string;
  order_id: string;
  user_id: string;
  amount: string;
  status: PaymentStatus;
  failure_reason: string | null;
  created_at: Date;
}

/** The order's tombstone and its payment, if any (the payment columns are null without one). */
interface OrderStateRow extends Omit<PaymentRow, "payment_id"> {
  failed: boolean;
  payment_id: string | null;
}

const PAYMENT_COLUMNS = "payment_id, order_id, user_id, amount, status, failure_reason, created_at";

const toPayment = (row: PaymentRow): Payment => ({
  paymentId: row.payment_id,
  orderId: row.order_id,
  userId: row.user_id,
  amount: Number(row.amount),
  status: row.status,
  failureReason: row.failure_reason,
  createdAt: row.created_at,
});

/** One statement: the tombstone check and the payment lookup (LEFT JOIN from one row, so there is always a row). */
const ORDER_STATE_SQL = `
  SELECT EXISTS (SELECT 1 FROM failed_orders WHERE order_id = $1) AS failed,
         p.payment_id, p.order_id, p.user_id, p.amount, p.status, p.failure_reason, p.created_at
  FROM (VALUES (1)) AS one
  LEFT JOIN payments p ON p.order_id = $1`;

const INSERT_PAYMENT_SQL = `
  INSERT INTO payments (payment_id, order_id, user_id, amount, status, failure_reason)
  VALUES ($1::uuid, $2, $3, $4::bigint, $5::payment_status, $6)
  RETURNING ${PAYMENT_COLUMNS}`;

const CANCEL_COMPLETED_SQL = `UPDATE payments SET status = 'CANCELLED', updated_at = now() WHERE order_id = $1 AND status = 'COMPLETED'`;

const RECORD_FAILED_ORDER_SQL = `INSERT INTO failed_orders (order_id, user_id, failure_code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`;

const PAYMENTS_OF_USER_SQL = `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 ORDER BY created_at DESC, payment_id DESC LIMIT $2`;
const PAYMENT_OF_USER_ORDER_SQL = `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $2 AND user_id = $1 ORDER BY created_at DESC, payment_id DESC LIMIT $3`;

class SqlPaymentTransaction implements PaymentTransaction {
  constructor(
    private readonly tx: SqlTransaction,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  lockOrder(orderId: string): Promise<void> {
    return lockOrder(this.tx, "payment", orderId);
  }

  async findOrderState(orderId: string): Promise<OrderPaymentState> {
    const [row] = await this.tx.query<OrderStateRow>(ORDER_STATE_SQL, [orderId]);
    if (!row) throw new Error("the order state query returned no row");
    const { failed, payment_id: paymentId, ...rest } = row;
    return { failed, payment: paymentId === null ? null : toPayment({ ...rest, payment_id: paymentId }) };
  }

  async insertPayment(payment: Omit<Payment, "createdAt">): Promise<Payment> {
    const [row] = await this.tx.query<PaymentRow>(INSERT_PAYMENT_SQL, [payment.paymentId, payment.orderId, payment.userId, payment.amount, payment.status, payment.failureReason]);
    if (!row) throw new Error("INSERT … RETURNING returned no row");
    return toPayment(row);
  }

  async cancelCompletedPayment(orderId: string): Promise<boolean> {
    return (await this.tx.execute(CANCEL_COMPLETED_SQL, [orderId])) > 0;
  }

  async recordFailedOrder(orderId: string, userId: string, failureCode: string): Promise<void> {
    await this.tx.execute(RECORD_FAILED_ORDER_SQL, [orderId, userId, failureCode]);
  }

  claimEvent(eventId: string, consumer: string): Promise<boolean> {
    return claimInboxEvent(this.tx, eventId, consumer);
  }

  publish(events: DomainEvent[]): Promise<void> {
    return appendEvents(this.tx, { schema: this.schema, topicPrefix: this.topicPrefix }, events);
  }
}

/** Plain pg: one statement per port call, transactions on one pooled connection. */
export class SqlPaymentStore implements PaymentStore {
  constructor(
    private readonly pool: SqlPool,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async paymentsOf(userId: string, options: { orderId?: string; limit: number }): Promise<Payment[]> {
    const { rows } = options.orderId
      ? await this.pool.query<PaymentRow>(PAYMENT_OF_USER_ORDER_SQL, [userId, options.orderId, options.limit])
      : await this.pool.query<PaymentRow>(PAYMENTS_OF_USER_SQL, [userId, options.limit]);
    return rows.map(toPayment);
  }

  transaction<T>(work: (tx: PaymentTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (tx) => work(new SqlPaymentTransaction(tx, this.schema, this.topicPrefix)));
  }
}
