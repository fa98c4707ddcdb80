import type { Pool } from "pg";
import { appendEvents, inTransaction, notifyChannel, outboxMessageOf, outboxRowOf, type SqlTransaction } from "@shop/outbox";
import type { Order, Page, StepStatus, TimelineStep } from "../domain/model.ts";
import type { DomainEvent, NewOrder, OrderStore, OrderTransaction, PlacementKeyState, StoredAnswer } from "../domain/ports.ts";
import type { OrderSagaEffect, OrderSagaState } from "../domain/saga-participant.ts";
import { saveOrderSagaEffects, toSagaOrder, type SagaOrderRow } from "./order-saga-repository.ts";

/**
 * Plain `pg` (Prisma keeps the schema and the migrations). Every read of an order is one
 * statement: its items (in request order) and its timeline (in the order it was recorded) come
 * along as JSON arrays. Tables are unqualified: the pool's search_path is the service schema.
 */

/** An order row with its details: the saga's columns plus deadline, timestamps and the timeline (JSON). */
interface OrderRow extends SagaOrderRow {
  deadline_at: Date;
  created_at: Date;
  updated_at: Date;
  /** `at` as JSON text (ISO 8601 with an offset). */
  timeline: { step: string; status: string; at: string }[];
}

const ORDER_COLUMNS = `order_id, user_id, status, subtotal, discount_amount, total_amount, user_coupon_id, payment_id, failure_code, deadline_at, completion_event_id, created_at, updated_at`;

const columnsOf = (alias: string) =>
  ORDER_COLUMNS.split(", ")
    .map((column) => `${alias}.${column}`)
    .join(", ");

/** The order columns of `alias` plus its items and timeline, for a SELECT list. */
const withDetails = (alias: string) => `
  ${columnsOf(alias)},
  COALESCE((SELECT json_agg(json_build_object('productId', i.product_id, 'name', i.name, 'quantity', i.quantity, 'unitPrice', i.unit_price) ORDER BY i.position)
            FROM order_items i WHERE i.order_id = ${alias}.order_id), '[]'::json) AS items,
  COALESCE((SELECT json_agg(json_build_object('step', t.step, 'status', t.status, 'at', t.at) ORDER BY t.id)
            FROM order_timeline t WHERE t.order_id = ${alias}.order_id), '[]'::json) AS timeline`;

const toOrder = (row: OrderRow): Order => ({
  ...toSagaOrder(row),
  deadlineAt: row.deadline_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  timeline: row.timeline.map((t) => ({ step: t.step as TimelineStep, status: t.status as StepStatus, at: new Date(t.at) })),
});

/**
 * A placement in one statement (atomic without a transaction): the answer stored under the
 * request's Idempotency-Key claim, the order with its items and timeline, its event in the outbox,
 * and the relay's wake-up (delivered on commit). Everything hangs off the claim: if the claim is
 * gone, nothing is written and the statement says so. The order is created as given, so what was
 * written is what comes back (timestamps are whole milliseconds, as in the columns).
 */
const PLACE_ORDER = `
  WITH answered AS (
    UPDATE idempotent_requests SET status_code = $20, response_body = $21::jsonb WHERE user_id = $2 AND key = $22
    RETURNING 1
  ), o AS (
    INSERT INTO orders (order_id, user_id, status, subtotal, discount_amount, total_amount, user_coupon_id, payment_id, failure_code, deadline_at, completion_event_id, created_at, updated_at)
    SELECT $1, $2, $3::order_status, $4::bigint, $5::bigint, $6::bigint, $7, $8, $9, $10::timestamptz, $11::uuid, $12::timestamptz, $12::timestamptz FROM answered
    RETURNING order_id
  ), items AS (
    INSERT INTO order_items (order_id, position, product_id, name, quantity, unit_price)
    SELECT o.order_id, item.n - 1, item.product_id, item.name, item.quantity, item.unit_price
    FROM o, unnest($13::text[], $14::text[], $15::int[], $16::bigint[]) WITH ORDINALITY AS item(product_id, name, quantity, unit_price, n)
  ), timeline AS (
    INSERT INTO order_timeline (order_id, step, status, at)
    SELECT o.order_id, entry.step, entry.status, entry.at
    FROM o, unnest($17::text[], $18::text[], $19::timestamptz[]) WITH ORDINALITY AS entry(step, status, at, n)
    ORDER BY entry.n
  ), outboxed AS (
    INSERT INTO outbox_events (event_id, topic, key, payload, headers)
    SELECT $23::uuid, $24, $25, $26::jsonb, $27::jsonb FROM o
    RETURNING 1
  )
  SELECT count(*)::int AS placed, count(pg_notify($28, '')) FROM outboxed`;

/** SKIP LOCKED: an order another instance (or a saga event) is working on is left to it. */
const LOCK_OVERDUE = `
  WITH overdue AS (
    SELECT ${ORDER_COLUMNS} FROM orders
    WHERE status = 'PENDING' AND deadline_at <= $1::timestamptz
    ORDER BY deadline_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  )
  SELECT ${withDetails("overdue")} FROM overdue ORDER BY overdue.deadline_at`;

const FIND_ORDER = `SELECT ${withDetails("o")} FROM orders o WHERE o.order_id = $1`;

const LIST_ORDERS = `
  SELECT o.seq, ${withDetails("o")} FROM orders o
  WHERE o.user_id = $1 AND ($2::bigint IS NULL OR o.seq < $2::bigint)
  ORDER BY o.seq DESC
  LIMIT $3`;

/**
 * The states of a placement's Idempotency-Key (PlacementKeyState) over the columns of
 * idempotent_requests, which predate the type and are kept as they are: rows written by a running
 * older version must keep meaning the same during a rollout, and CLAIM_KEY and PLACE_ORDER stay
 * one statement each.
 * - claimed / in progress: `status_code = 0` (no answer yet), `claimed_at` when it was claimed;
 * - abandoned: also `status_code = 0`, with `claimed_at = 'epoch'` (abandonIdempotencyKey): older
 *   than any take-over age, so the next request with the same body takes it over at once;
 * - taken over: an unanswered claim older than the take-over age, claimed again (`claimed_at = now()`);
 * - completed: `status_code` 201 or 202 and the answer in `response_body` (PLACE_ORDER);
 * - released: the row is deleted (releaseIdempotencyKey), the key is free.
 */
const NOT_ANSWERED = 0;

/**
 * One statement per attempt to take an Idempotency-Key: insert a fresh claim; failing that, take
 * over a stale unanswered claim of the same request; and report the stored row. All three see one
 * snapshot, so the stored row is as it was before the takeover (only its hash and answer are used).
 */
const CLAIM_KEY = `
  WITH claimed AS (
    INSERT INTO idempotent_requests (user_id, key, request_hash, order_id, status_code, response_body)
    VALUES ($1, $2, $3, $4, ${NOT_ANSWERED}, 'null'::jsonb)
    ON CONFLICT DO NOTHING
    RETURNING order_id
  ), taken AS (
    UPDATE idempotent_requests SET claimed_at = now()
    WHERE user_id = $1 AND key = $2 AND status_code = ${NOT_ANSWERED} AND request_hash = $3
      AND claimed_at < now() - $5::int * interval '1 millisecond'
      AND NOT EXISTS (SELECT 1 FROM claimed)
    RETURNING order_id
  )
  SELECT 'claimed' AS outcome, order_id, NULL::text AS request_hash, NULL::int AS status_code, NULL::jsonb AS response_body FROM claimed
  UNION ALL
  SELECT 'taken', order_id, NULL, NULL, NULL FROM taken
  UNION ALL
  SELECT 'stored', order_id, request_hash, status_code, response_body FROM idempotent_requests
  WHERE user_id = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM claimed)`;

interface ClaimRow {
  outcome: "claimed" | "taken" | "stored";
  order_id: string;
  request_hash: string | null;
  status_code: number | null;
  response_body: unknown;
}

class PgOrderTransaction implements OrderTransaction {
  constructor(
    private readonly tx: SqlTransaction,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async lockOverduePendingOrders(now: Date, limit: number): Promise<Order[]> {
    return (await this.tx.query<OrderRow>(LOCK_OVERDUE, [now, limit])).map(toOrder);
  }

  saveSagaEffects(effects: OrderSagaEffect[], state: OrderSagaState): Promise<void> {
    return saveOrderSagaEffects(this.tx, this.schema, effects, state);
  }

  publish(events: DomainEvent[]): Promise<void> {
    return appendEvents(this.tx, { schema: this.schema, topicPrefix: this.topicPrefix }, events);
  }
}

export class PgOrderStore implements OrderStore {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  /** One statement on the (status, deadline_at) index: how many orders are PENDING, and the deadline of the `headPosition`-th oldest. */
  async pendingBacklog(headPosition: number): Promise<{ pending: number; headDeadlineAt: Date | null }> {
    const { rows } = await this.pool.query<{ pending: number; head_deadline_at: Date | null }>(
      `SELECT (SELECT count(*)::int FROM orders WHERE status = 'PENDING') AS pending,
              (SELECT deadline_at FROM orders WHERE status = 'PENDING' ORDER BY deadline_at OFFSET $1 LIMIT 1) AS head_deadline_at`,
      [headPosition],
    );
    return { pending: rows[0]!.pending, headDeadlineAt: rows[0]!.head_deadline_at };
  }

  async findOrder(orderId: string): Promise<Order | null> {
    const [row] = (await this.pool.query<OrderRow>(FIND_ORDER, [orderId])).rows;
    return row ? toOrder(row) : null;
  }

  async listOrders(userId: string, limit: number, cursor?: string): Promise<Page<Order>> {
    const { rows } = await this.pool.query<OrderRow & { seq: string }>(LIST_ORDERS, [userId, cursor ?? null, limit + 1]);
    const page = rows.slice(0, limit);
    return { items: page.map(toOrder), nextCursor: rows.length > limit ? page[page.length - 1]!.seq : null };
  }

  async claimIdempotencyKey(userId: string, key: string, requestHash: string, newOrderId: string, takeOverAfterMs: number): Promise<PlacementKeyState> {
    // Each statement commits on its own: the claim is visible to concurrent requests at once.
    for (;;) {
      const { rows } = await this.pool.query<ClaimRow>(CLAIM_KEY, [userId, key, requestHash, newOrderId, takeOverAfterMs]);
      const claimed = rows.find((r) => r.outcome === "claimed");
      if (claimed) return { state: "claimed", orderId: newOrderId };
      const stored = rows.find((r) => r.outcome === "stored");
      // Inserted by a request that committed after this statement's snapshot, or released since: try again.
      if (!stored) continue;
      if (stored.status_code !== NOT_ANSWERED) {
        return {
          state: "completed",
          orderId: stored.order_id,
          requestHash: stored.request_hash!,
          answer: { statusCode: stored.status_code!, body: stored.response_body },
        };
      }
      const taken = rows.find((r) => r.outcome === "taken");
      if (taken) return { state: "taken-over", orderId: taken.order_id };
      return { state: "in-progress", orderId: stored.order_id, requestHash: stored.request_hash! };
    }
  }

  async placeOrder(order: NewOrder, event: DomainEvent, answer: StoredAnswer): Promise<Order> {
    const outboxRow = outboxRowOf(outboxMessageOf(event, this.topicPrefix));
    const { rows } = await this.pool.query<{ placed: number }>(PLACE_ORDER, [
      order.orderId,
      order.userId,
      order.status,
      order.subtotal,
      order.discountAmount,
      order.totalAmount,
      order.userCouponId,
      order.paymentId,
      order.failureCode,
      order.deadlineAt.toISOString(),
      order.completionEventId,
      order.createdAt.toISOString(),
      order.items.map((i) => i.productId),
      order.items.map((i) => i.name),
      order.items.map((i) => i.quantity),
      order.items.map((i) => i.unitPrice),
      order.timeline.map((t) => t.step),
      order.timeline.map((t) => t.status),
      order.timeline.map((t) => t.at.toISOString()),
      answer.statusCode,
      JSON.stringify(answer.body),
      answer.idempotencyKey,
      outboxRow.eventId,
      outboxRow.topic,
      outboxRow.key,
      outboxRow.payload,
      outboxRow.headers,
      notifyChannel(this.schema),
    ]);
    if (rows[0]?.placed !== 1) throw new Error(`no claim of Idempotency-Key ${answer.idempotencyKey} to place order ${order.orderId} under`);
    // What was written, as it now stands: a new order has not been updated since it was created.
    return { ...order, updatedAt: order.createdAt };
  }

  async releaseIdempotencyKey(userId: string, key: string): Promise<void> {
    await this.pool.query(`DELETE FROM idempotent_requests WHERE user_id = $1 AND key = $2 AND status_code = ${NOT_ANSWERED}`, [userId, key]);
  }

  async abandonIdempotencyKey(userId: string, key: string): Promise<void> {
    await this.pool.query(`UPDATE idempotent_requests SET claimed_at = 'epoch' WHERE user_id = $1 AND key = $2 AND status_code = ${NOT_ANSWERED}`, [
      userId,
      key,
    ]);
  }

  transaction<T>(work: (tx: OrderTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (tx) => work(new PgOrderTransaction(tx, this.schema, this.topicPrefix)));
  }
}
