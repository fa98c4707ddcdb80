import avro from "avsc";
import { avroSchemas, eventNames, topicOf, type EventPayloads } from "../src/index.ts";

const now = "2026-11-23T10:00:00.000Z";
const item = { productId: "p-1", quantity: 2, unitPrice: 1500 };
const base = { eventId: "0b6f1f5e-8f57-4d8c-9d0b-3c0f3f1c2a11", occurredAt: now, orderId: "o-1", userId: "u-1" };

/** One sample per event, typed by the TypeScript shapes: if a type and its schema drift apart, this fails. */
const samples: { [E in keyof EventPayloads]: EventPayloads[E] } = {
  OrderPlaced: { ...base, items: [item], subtotal: 3000, discountAmount: 300, totalAmount: 2700, userCouponId: null, deadlineAt: now },
  BalanceDebited: { ...base, amount: 2700, items: [item] },
  BalanceDebitFailed: { ...base, reason: "INSUFFICIENT_BALANCE", detail: "" },
  StockReserved: { ...base, amount: 2700, items: [item] },
  StockReservationFailed: { ...base, reason: "OUT_OF_STOCK", detail: "p-1 has 1", productId: "p-1" },
  PaymentCompleted: { ...base, paymentId: "pay-1", amount: 2700 },
  PaymentFailed: { ...base, reason: "PAYMENT_FAILED", detail: "" },
  OrderFailed: { ...base, failureCode: "TIMEOUT", userCouponId: "uc-1" },
  OrderCompleted: {
    eventId: base.eventId,
    orderId: "o-1",
    userId: "u-1",
    items: [{ ...item, name: "Kimchi" }],
    subtotal: 3000,
    discountAmount: 300,
    totalAmount: 2700,
    paymentId: "pay-1",
    completedAt: now,
  },
};

test.each(eventNames)("%s: the TypeScript shape is valid for its Avro schema and round-trips", (event) => {
  const type = avro.Type.forSchema(avroSchemas[event] as unknown as avro.Schema);
  const errors: string[] = [];
  const valid = type.isValid(samples[event], { errorHook: (path) => errors.push(path.join(".")) });
  expect(errors).toEqual([]);
  expect(valid).toBe(true);
  expect(type.fromBuffer(type.toBuffer(samples[event]))).toEqual(samples[event]);
  // Every field of the schema appears in the TypeScript sample: no field the types forgot.
  const fields = (avroSchemas[event] as { fields: readonly { name: string }[] }).fields.map((f) => f.name);
  expect(Object.keys(samples[event]).sort()).toEqual([...fields].sort());
});

test("saga events carry eventId and occurredAt; the data-platform topic has the contract's fields", () => {
  for (const event of eventNames.filter((e) => e !== "OrderCompleted")) {
    const names = (avroSchemas[event] as { fields: readonly { name: string }[] }).fields.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(["eventId", "occurredAt", "orderId", "userId"]));
  }
  expect(topicOf("OrderCompleted")).toBe("order.completed.v1");
  expect(avroSchemas.OrderCompleted.fields.map((f) => f.name)).toEqual([
    "eventId",
    "orderId",
    "userId",
    "items",
    "subtotal",
    "discountAmount",
    "totalAmount",
    "paymentId",
    "completedAt",
  ]);
});
