import type { createSqlPool } from "@shop/outbox";
import type { Payment, PaymentStatus } from "../domain/model.ts";
import type { PaymentStore } from "../domain/ports.ts";

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

const PAYMENTS_OF_USER_SQL = `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 ORDER BY created_at DESC, payment_id DESC LIMIT $2`;
const PAYMENT_OF_USER_ORDER_SQL = `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $2 AND user_id = $1 ORDER BY created_at DESC, payment_id DESC LIMIT $3`;

/** Plain pg: one statement per read. */
export class SqlPaymentStore implements PaymentStore {
  constructor(private readonly pool: SqlPool) {}

  async paymentsOf(userId: string, options: { orderId?: string; limit: number }): Promise<Payment[]> {
    const { rows } = options.orderId
      ? await this.pool.query<PaymentRow>(PAYMENT_OF_USER_ORDER_SQL, [userId, options.orderId, options.limit])
      : await this.pool.query<PaymentRow>(PAYMENTS_OF_USER_SQL, [userId, options.limit]);
    return rows.map(toPayment);
  }
}
