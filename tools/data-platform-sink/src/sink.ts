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
 * known eventId is the deduplication (the row and the dedupe are one statement).
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
        for (const message of batch.messages) {
          if (message.value) await this.land(await this.options.codec.decode<OrderCompleted>(message.value));
          payload.resolveOffset(message.offset);
          await payload.heartbeat();
        }
      },
    });
  }

  async land(order: OrderCompleted): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO ${this.table} (event_id, order_id, user_id, items, subtotal, discount_amount, total_amount, payment_id, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING`,
      [
        order.eventId,
        order.orderId,
        order.userId,
        JSON.stringify(order.items),
        order.subtotal,
        order.discountAmount,
        order.totalAmount,
        order.paymentId,
        order.completedAt,
      ],
    );
    if (result.rowCount === 1) this.options.logger.info({ orderId: order.orderId, totalAmount: order.totalAmount }, "completed order landed");
    return result.rowCount === 1;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.pool.end();
  }
}
