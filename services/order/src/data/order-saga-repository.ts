import type { SqlTransaction } from "@shop/outbox";
import type { ParticipantRepository, SagaEvent } from "@shop/saga";
import type { FailureCode } from "../domain/model.ts";
import { sagaStateOf, type OrderSagaEffect, type OrderSagaState, type SagaOrder } from "../domain/saga-participant.ts";
import { orderChangeChannel } from "./order-change-feed.ts";

/** An order row with its items as the saga reads it; BIGINT columns arrive as strings. */
export interface SagaOrderRow {
  order_id: string;
  user_id: string;
  status: SagaOrder["status"];
  subtotal: string;
  discount_amount: string;
  total_amount: string;
  user_coupon_id: string | null;
  payment_id: string | null;
  failure_code: string | null;
  completion_event_id: string;
  items: { productId: string; name: string; quantity: number; unitPrice: number | string }[];
}

export const toSagaOrder = (row: SagaOrderRow): SagaOrder => ({
  orderId: row.order_id,
  userId: row.user_id,
  status: row.status,
  items: row.items.map((i) => ({ productId: i.productId, name: i.name, quantity: i.quantity, unitPrice: Number(i.unitPrice) })),
  subtotal: Number(row.subtotal),
  discountAmount: Number(row.discount_amount),
  totalAmount: Number(row.total_amount),
  userCouponId: row.user_coupon_id,
  paymentId: row.payment_id,
  failureCode: row.failure_code as FailureCode | null,
  completionEventId: row.completion_event_id,
});

/**
 * The batch's orders, locked in order-id order (every batch locks that way, so two batches never
 * deadlock), then read with their items. A row locked after waiting is its latest committed
 * version, so what the decisions see is current. Orders of other services are simply absent.
 */
const LOCK_SAGA_ORDERS = `
  WITH locked AS MATERIALIZED (
    SELECT order_id, user_id, status, subtotal, discount_amount, total_amount, user_coupon_id, payment_id, failure_code, completion_event_id
    FROM orders WHERE order_id = ANY($1::text[]) ORDER BY order_id FOR UPDATE
  )
  SELECT locked.*,
         COALESCE((SELECT json_agg(json_build_object('productId', i.product_id, 'name', i.name, 'quantity', i.quantity, 'unitPrice', i.unit_price) ORDER BY i.position)
                   FROM order_items i WHERE i.order_id = locked.order_id), '[]'::json) AS items
  FROM locked`;

/**
 * Every effect of a batch in one statement: the timeline steps (a step an order already has is
 * left as it is), the status changes, and, delivered on commit to every instance, the wake-up of
 * `Prefer: wait` requests of the orders that changed.
 */
const SAVE_SAGA_EFFECTS = `
  WITH recorded AS (
    INSERT INTO order_timeline (order_id, step, status, at)
    SELECT e.order_id, e.step, e.status, e.at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS e(order_id, step, status, at, n)
    ORDER BY e.n
    ON CONFLICT DO NOTHING
  ), changed AS (
    UPDATE orders o SET status = c.status::order_status, failure_code = c.failure_code, payment_id = c.payment_id, updated_at = now()
    FROM unnest($5::text[], $6::text[], $7::text[], $8::text[]) AS c(order_id, status, failure_code, payment_id)
    WHERE o.order_id = c.order_id
    RETURNING o.order_id
  )
  SELECT count(pg_notify($9, changed.order_id))::int AS notified FROM changed`;

/** Writes a batch's effects; the orders' final state (in `state`) is what is stored. */
export async function saveOrderSagaEffects(tx: SqlTransaction, schema: string, effects: OrderSagaEffect[], state: OrderSagaState): Promise<void> {
  const steps = effects.flatMap((e) => (e.kind === "steps-recorded" ? e.entries.map((entry) => ({ orderId: e.orderId, ...entry })) : []));
  const changed = [...new Set(effects.filter((e) => e.kind === "status-changed").map((e) => e.orderId))].map((id) => state.orders.get(id)!);
  if (steps.length === 0 && changed.length === 0) return;
  await tx.query(SAVE_SAGA_EFFECTS, [
    steps.map((s) => s.orderId),
    steps.map((s) => s.step),
    steps.map((s) => s.status),
    steps.map((s) => s.at.toISOString()),
    changed.map((o) => o.orderId),
    changed.map((o) => o.status),
    changed.map((o) => o.failureCode),
    changed.map((o) => o.paymentId),
    orderChangeChannel(schema),
  ]);
}

/** The order's saga state in PostgreSQL; its load takes the order row locks itself (see the runner's orderLocks). */
export class OrderSagaRepository implements ParticipantRepository<OrderSagaState, OrderSagaEffect> {
  constructor(private readonly schema: string) {}

  async load(tx: SqlTransaction, events: SagaEvent[]): Promise<OrderSagaState> {
    const rows = await tx.query<SagaOrderRow>(LOCK_SAGA_ORDERS, [[...new Set(events.map((e) => e.orderId))]]);
    return sagaStateOf(rows.map(toSagaOrder));
  }

  save(tx: SqlTransaction, effects: OrderSagaEffect[], state: OrderSagaState): Promise<void> {
    return saveOrderSagaEffects(tx, this.schema, effects, state);
  }
}
