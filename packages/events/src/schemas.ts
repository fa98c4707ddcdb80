/**
 * Avro schemas of every event on Kafka. Subject = `<topic>-value`, BACKWARD compatibility:
 * a new version may add fields with defaults or drop fields, never change a type.
 * Timestamps are ISO-8601 UTC strings, money is KRW in `long`.
 */
const namespace = "shop.events";

const eventId = { name: "eventId", type: { type: "string", logicalType: "uuid" }, doc: "Unique per event; consumers deduplicate on it." };
const occurredAt = { name: "occurredAt", type: "string", doc: "ISO-8601 UTC instant." };
const orderId = { name: "orderId", type: "string" };
const userId = { name: "userId", type: "string" };

const sagaItem = {
  type: "record",
  name: "SagaItem",
  fields: [
    { name: "productId", type: "string" },
    { name: "quantity", type: "int" },
    { name: "unitPrice", type: "long" },
  ],
};

const failure = [
  { name: "reason", type: "string", doc: "Stable failure code, e.g. INSUFFICIENT_BALANCE." },
  { name: "detail", type: "string", default: "" },
];

export const avroSchemas = {
  OrderPlaced: {
    type: "record",
    name: "OrderPlaced",
    namespace,
    fields: [
      eventId,
      occurredAt,
      orderId,
      userId,
      { name: "items", type: { type: "array", items: sagaItem } },
      { name: "subtotal", type: "long" },
      { name: "discountAmount", type: "long" },
      { name: "totalAmount", type: "long" },
      { name: "userCouponId", type: ["null", "string"], default: null },
      { name: "deadlineAt", type: "string", doc: "ISO-8601 UTC instant after which the order fails with TIMEOUT." },
    ],
  },
  BalanceDebited: {
    type: "record",
    name: "BalanceDebited",
    namespace,
    fields: [eventId, occurredAt, orderId, userId, { name: "amount", type: "long" }, { name: "items", type: { type: "array", items: sagaItem } }],
  },
  BalanceDebitFailed: {
    type: "record",
    name: "BalanceDebitFailed",
    namespace,
    fields: [eventId, occurredAt, orderId, userId, ...failure],
  },
  StockReserved: {
    type: "record",
    name: "StockReserved",
    namespace,
    fields: [eventId, occurredAt, orderId, userId, { name: "amount", type: "long" }, { name: "items", type: { type: "array", items: sagaItem } }],
  },
  StockReservationFailed: {
    type: "record",
    name: "StockReservationFailed",
    namespace,
    fields: [eventId, occurredAt, orderId, userId, ...failure, { name: "productId", type: ["null", "string"], default: null }],
  },
  PaymentCompleted: {
    type: "record",
    name: "PaymentCompleted",
    namespace,
    fields: [eventId, occurredAt, orderId, userId, { name: "paymentId", type: "string" }, { name: "amount", type: "long" }],
  },
  PaymentFailed: {
    type: "record",
    name: "PaymentFailed",
    namespace,
    fields: [eventId, occurredAt, orderId, userId, ...failure],
  },
  OrderFailed: {
    type: "record",
    name: "OrderFailed",
    namespace,
    doc: "The order is final FAILED: every participant undoes what it did for it, in whatever order events arrive.",
    fields: [eventId, occurredAt, orderId, userId, { name: "failureCode", type: "string" }, { name: "userCouponId", type: ["null", "string"], default: null }],
  },
  OrderCompleted: {
    type: "record",
    name: "OrderCompleted",
    namespace: "shop.dataplatform",
    doc: "One record per completed order for the data platform; eventId is stable per order.",
    fields: [
      eventId,
      orderId,
      userId,
      {
        name: "items",
        type: {
          type: "array",
          items: {
            type: "record",
            name: "OrderCompletedItem",
            fields: [
              { name: "productId", type: "string" },
              { name: "name", type: "string" },
              { name: "quantity", type: "int" },
              { name: "unitPrice", type: "long" },
            ],
          },
        },
      },
      { name: "subtotal", type: "long" },
      { name: "discountAmount", type: "long" },
      { name: "totalAmount", type: "long" },
      { name: "paymentId", type: "string" },
      { name: "completedAt", type: "string", doc: "ISO-8601 UTC instant." },
    ],
  },
} as const;

export type EventName = keyof typeof avroSchemas;
