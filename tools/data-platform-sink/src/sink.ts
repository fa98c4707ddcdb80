import pg from "pg";
import type { Consumer, Kafka } from "kafkajs";
import type { DatabaseLocation } from "@shop/config";
import { topicOf, type OrderCompleted } from "@shop/events";
import { IDLE_FETCH_WAIT_MS, ensureTopics, type EventCodec } from "@shop/kafka";
import type { Logger } from "@shop/logging";

const ddl = (schema: string) => `
CREATE SCHEMA IF NOT EXISTS "${schema}";
CREATE TABLE IF NOT EXISTS "${schema}".completed_orders (
  event_id UUID PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  items JSONB NOT NULL,
  subtotal BIGINT NOT NULL,
  discount_amount BIGINT NOT NULL,
  total_amount BIGINT NOT NULL,
  payment_id TEXT NOT NULL,
  completed_at TIMESTAMPTZ NOT NULL,
  received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);`;

/**
 * Lands every completed order once: delivery is at least once, and the insert that ignores a
 * known eventId is the deduplication (the rows and the dedupe are one statement per batch).
 */
export class DataPlatformSink {
  private readonly pool: pg.Pool;
  private consumer?: Consumer;

  constructor(private readonly options: { kafka: Kafka; codec: EventCodec; database: DatabaseLocation; groupId: string; topicPrefix: string; logger: Logger }) {
    const { schema: _schema, ...connection } = options.database;
    this.pool = new pg.Pool({ ...connection, max: 4 });
  }

  get table(): string {
    return `"${this.options.database.schema}".completed_orders`;
  }

  async start(): Promise<void> {
    await this.pool.query(ddl(this.options.database.schema));
    // Subscribing to a topic nobody has written yet must not fail the sink.
    await ensureTopics(this.options.kafka, [topicOf("OrderCompleted", this.options.topicPrefix)]);
    this.consumer = this.options.kafka.consumer({ groupId: `${this.options.topicPrefix}${this.options.groupId}`, maxWaitTimeInMs: IDLE_FETCH_WAIT_MS });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: topicOf("OrderCompleted", this.options.topicPrefix), fromBeginning: true });
    await this.consumer.run({
      eachBatch: async (payload) => {
        const { batch } = payload;
        const orders: OrderCompleted[] = [];
        for (const message of batch.messages) if (message.value) orders.push(await this.options.codec.decode<OrderCompleted>(message.value));
        await this.land(orders);
        payload.resolveOffset(batch.lastOffset());
        await payload.heartbeat();
      },
    });
  }

  /** Lands a batch of completed orders in one statement; returns the ids of those that were new. */
  async land(orders: OrderCompleted[]): Promise<string[]> {
    if (orders.length === 0) return [];
    const column = <T>(pick: (order: OrderCompleted) => T) => orders.map(pick);
    const { rows } = await this.pool.query<{ order_id: string; total_amount: string }>(
      `INSERT INTO ${this.table} (event_id, order_id, user_id, items, subtotal, discount_amount, total_amount, payment_id, completed_at)
       SELECT event_id, order_id, user_id, items::jsonb, subtotal, discount_amount, total_amount, payment_id, completed_at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::timestamptz[])
         WITH ORDINALITY AS o(event_id, order_id, user_id, items, subtotal, discount_amount, total_amount, payment_id, completed_at, n)
       ORDER BY n
       ON CONFLICT (event_id) DO NOTHING
       RETURNING order_id, total_amount`,
      [
        column((o) => o.eventId),
        column((o) => o.orderId),
        column((o) => o.userId),
        column((o) => JSON.stringify(o.items)),
        column((o) => o.subtotal),
        column((o) => o.discountAmount),
        column((o) => o.totalAmount),
        column((o) => o.paymentId),
        column((o) => o.completedAt),
      ],
    );
    for (const row of rows) this.options.logger.info({ orderId: row.order_id, totalAmount: Number(row.total_amount) }, "completed order landed");
    return rows.map((row) => row.order_id);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.pool.end();
  }
}
