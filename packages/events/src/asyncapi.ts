import { avroSchemas, type EventName } from "./schemas.ts";
import { topicNames } from "./topics.ts";

/** Who writes and who reads each event: the saga's choreography at a glance. */
export const eventFlow: Record<EventName, { producer: string; consumers: string[]; summary: string }> = {
  OrderPlaced: { producer: "order", consumers: ["wallet", "coupon"], summary: "An order was stored PENDING; the wallet debits its total." },
  BalanceDebited: { producer: "wallet", consumers: ["catalog", "order"], summary: "The total was debited; carries the items for the stock reservation." },
  BalanceDebitFailed: { producer: "wallet", consumers: ["order"], summary: "The balance did not cover the total (INSUFFICIENT_BALANCE)." },
  StockReserved: { producer: "catalog", consumers: ["payment", "order"], summary: "Every item was reserved, all or nothing." },
  StockReservationFailed: { producer: "catalog", consumers: ["order"], summary: "An item was short (OUT_OF_STOCK, naming the product)." },
  PaymentCompleted: { producer: "payment", consumers: ["order"], summary: "The payment for the debited amount was recorded." },
  PaymentFailed: { producer: "payment", consumers: ["order"], summary: "The payment could not be recorded (PAYMENT_FAILED)." },
  OrderFailed: {
    producer: "order",
    consumers: ["wallet", "catalog", "coupon", "payment"],
    summary: "The order is FAILED for good: every participant undoes its step, in any arrival order.",
  },
  OrderCompleted: {
    producer: "order",
    consumers: ["catalog", "coupon", "data platform"],
    summary: "One record per completed order, for the data platform (stable eventId per order).",
  },
};

/** The AsyncAPI 3 document of every topic, built from the Avro schemas so it cannot drift from them. */
export function asyncApiDocument(): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const event of Object.keys(avroSchemas) as EventName[]) {
    const flow = eventFlow[event];
    messages[event] = {
      name: event,
      title: event,
      summary: flow.summary,
      contentType: "application/vnd.apache.avro+binary",
      headers: {
        type: "object",
        properties: {
          traceparent: { type: "string", description: "W3C trace context" },
          "event-type": { type: "string", const: event },
        },
      },
      payload: { schemaFormat: "application/vnd.apache.avro+json;version=1.9.0", schema: avroSchemas[event] },
      bindings: { kafka: { key: { type: "string", description: "the order id" }, schemaIdLocation: "payload", schemaIdPayloadEncoding: "confluent" } },
    };
    channels[event] = {
      address: topicNames[event],
      description: `${flow.summary} Written by ${flow.producer}; read by ${flow.consumers.join(", ")}.`,
      messages: { [event]: { $ref: `#/components/messages/${event}` } },
    };
    operations[`publish${event}`] = {
      action: "send",
      channel: { $ref: `#/channels/${event}` },
      summary: `${flow.producer} publishes ${event} through its outbox`,
      messages: [{ $ref: `#/channels/${event}/messages/${event}` }],
    };
    operations[`consume${event}`] = {
      action: "receive",
      channel: { $ref: `#/channels/${event}` },
      summary: `read by ${flow.consumers.join(", ")} (inbox-deduplicated by eventId)`,
      messages: [{ $ref: `#/channels/${event}/messages/${event}` }],
    };
  }
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Shop platform events",
      version: "1.0.0",
      description:
        "Saga events (choreography, key = orderId) and the data-platform topic order.completed.v1. Avro in the Confluent wire format; subjects `<topic>-value` with BACKWARD compatibility. Delivery is at least once: deduplicate by eventId.",
    },
    defaultContentType: "application/vnd.apache.avro+binary",
    servers: {
      local: { host: "127.0.0.1:9092", protocol: "kafka", description: "Local single-node KRaft broker; registry at http://127.0.0.1:8081/apis/ccompat/v7" },
    },
    channels,
    operations,
    components: { messages },
  };
}
