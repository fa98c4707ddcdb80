// Coupons in orders: the synchronous reservation and the saga events that confirm, use or
// release it, in any order and with redelivery.
import { randomBytes, randomUUID } from "node:crypto";
import { topicOf, type EventName, type EventPayloads, type OrderCompleted, type OrderFailed, type OrderPlaced } from "@shop/events";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import { fileURLToPath } from "node:url";
import { createTestSchema, eventually, silentLogger, testInfra, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
// The real order service answers "was this order placed?" before a reservation is released.
import { loadOrderConfig } from "../../order/src/config.ts";
import { start as startOrderService, type RunningOrder } from "../../order/src/main.ts";
import { createCampaign, issue, sleep, startCouponFixture, type CouponFixture } from "./support.ts";

const REDIS_DB = 9;
const RESERVATION_TTL_MS = 2_000;
const prefix = uniqueTopicPrefix("coupon");

let f: CouponFixture;
let orderDb: TestSchema;
let orderService: RunningOrder;
let publisher: EventPublisher;
let percentCampaign: { id: string };
let fixedCampaign: { id: string };

beforeAll(async () => {
  orderDb = await createTestSchema({ migrationsDir: fileURLToPath(new URL("../../order/prisma/migrations", import.meta.url)), label: "coupon-orders" });
  orderService = await startOrderService(
    loadOrderConfig({ DATABASE_URL: orderDb.databaseUrl, PORT: "0", EVENTS_ENABLED: "false", DEADLINE_SWEEPER_ENABLED: "false", LOG_LEVEL: "error" }),
    silentLogger,
  );
  f = await startCouponFixture("coupon-saga", REDIS_DB, {
    ORDER_URL: orderService.url,
    EVENTS_ENABLED: "true",
    TOPIC_PREFIX: prefix,
    COUPON_RESERVATION_TTL_MS: String(RESERVATION_TTL_MS),
    RESERVATION_SWEEP_INTERVAL_MS: "200",
  });
  publisher = new EventPublisher(createKafka("coupon-saga-test", testInfra.brokers, silentLogger), EventCodec.forUrl(testInfra.registryUrl, prefix));
  await publisher.connect();
  // 10% up to 5,000 KRW from 20,000 KRW; 3,000 KRW off anything.
  percentCampaign = await createCampaign(f.client, {
    discountType: "PERCENT",
    discountValue: 10,
    maxDiscountAmount: 5000,
    minOrderAmount: 20_000,
    totalQuantity: 10_000,
  });
  fixedCampaign = await createCampaign(f.client, { discountType: "FIXED", discountValue: 3000, maxDiscountAmount: undefined, totalQuantity: 10_000 });
});
afterAll(async () => {
  await publisher?.disconnect();
  await f?.stop();
  await orderService?.stop();
  await orderDb?.drop();
});

/** An order as the order service stores it once placed (PENDING; its OrderPlaced not yet seen here). */
const recordPlacedOrder = (orderId: string, userId: string, userCouponId: string) =>
  orderDb.query(
    `INSERT INTO orders (order_id, user_id, status, subtotal, discount_amount, total_amount, user_coupon_id, deadline_at, completion_event_id)
     VALUES ($1, $2, 'PENDING', 30000, 3000, 27000, $3, now() + interval '30 seconds', $4)`,
    [orderId, userId, userCouponId, randomUUID()],
  );

const newUser = () => `saga-${randomBytes(4).toString("hex")}`;
const now = () => new Date().toISOString();

async function couponOf(campaign: { id: string }, userId = newUser()) {
  const response = await issue(f.client, userId, campaign.id);
  expect(response.status).toBe(201);
  return { userId, userCouponId: response.body.userCouponId as string };
}

const reserve = (userCouponId: string, body: { userId: string; orderId: string; orderAmount: number }) =>
  f.client.post(`/internal/v1/user-coupons/${userCouponId}/reservations`, body);

const statusOf = async (userId: string, userCouponId: string): Promise<string> =>
  (await f.client.get(`/api/v1/users/${userId}/coupons`)).body.items.find((i: { userCouponId: string }) => i.userCouponId === userCouponId)?.status;

const reservationOf = async (orderId: string) =>
  (await f.db.query<{ status: string }>("SELECT status::text FROM coupon_reservations WHERE order_id = $1", [orderId]))[0]?.status;

const send = <E extends EventName>(type: E, payload: EventPayloads[E]) =>
  publisher.publish([{ eventType: type, topic: topicOf(type, prefix), key: (payload as { orderId: string }).orderId, payload }]);

const handled = async (eventId: string) =>
  eventually(async () => expect(await f.db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [eventId])).toHaveLength(1), 20_000);

const placed = (orderId: string, userId: string, userCouponId: string | null, discountAmount = 0): OrderPlaced => ({
  eventId: randomUUID(),
  occurredAt: now(),
  orderId,
  userId,
  items: [{ productId: "p-1", quantity: 1, unitPrice: 30_000 }],
  subtotal: 30_000,
  discountAmount,
  totalAmount: 30_000 - discountAmount,
  userCouponId,
  deadlineAt: new Date(Date.now() + 30_000).toISOString(),
});

const failed = (orderId: string, userId: string, userCouponId: string | null): OrderFailed => ({
  eventId: randomUUID(),
  occurredAt: now(),
  orderId,
  userId,
  failureCode: "OUT_OF_STOCK",
  userCouponId,
});

const completed = (orderId: string, userId: string, discountAmount: number): OrderCompleted => ({
  eventId: randomUUID(),
  orderId,
  userId,
  items: [{ productId: "p-1", name: "Widget", quantity: 1, unitPrice: 30_000 }],
  subtotal: 30_000,
  discountAmount,
  totalAmount: 30_000 - discountAmount,
  paymentId: randomUUID(),
  completedAt: now(),
});

test("a reservation prices the order and holds the coupon; a retry for the same order returns the same reservation", async () => {
  const { userId, userCouponId } = await couponOf(percentCampaign);
  const orderId = randomUUID();
  const first = await reserve(userCouponId, { userId, orderId, orderAmount: 34_567 });
  expect(first.status).toBe(200);
  expect(first.body).toEqual({ userCouponId, couponId: percentCampaign.id, orderId, discountAmount: 3456, status: "RESERVED" });
  const again = await Promise.all([1, 2, 3].map(() => reserve(userCouponId, { userId, orderId, orderAmount: 34_567 })));
  for (const r of again) expect(r.body).toEqual(first.body);
  expect(await statusOf(userId, userCouponId)).toBe("RESERVED");
});

test("the discount is capped by maxDiscountAmount, and a FIXED coupon never exceeds the order", async () => {
  const percent = await couponOf(percentCampaign);
  expect((await reserve(percent.userCouponId, { userId: percent.userId, orderId: randomUUID(), orderAmount: 1_000_000 })).body.discountAmount).toBe(5000);
  const fixed = await couponOf(fixedCampaign);
  expect((await reserve(fixed.userCouponId, { userId: fixed.userId, orderId: randomUUID(), orderAmount: 1_200 })).body.discountAmount).toBe(1200);
});

test("reserve, the order fails, the coupon is available and can be reserved again", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const orderId = randomUUID();
  expect((await reserve(userCouponId, { userId, orderId, orderAmount: 30_000 })).status).toBe(200);
  const failure = failed(orderId, userId, userCouponId);
  await send("OrderFailed", failure);
  await handled(failure.eventId);
  expect(await statusOf(userId, userCouponId)).toBe("AVAILABLE");
  expect(await reservationOf(orderId)).toBe("RELEASED");
  // The failed order cannot take it again; a new order can.
  const retry = await reserve(userCouponId, { userId, orderId, orderAmount: 30_000 });
  expect(retry.status).toBe(409);
  expect(retry.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "ORDER_FAILED" });
  const next = await reserve(userCouponId, { userId, orderId: randomUUID(), orderAmount: 30_000 });
  expect(next.status).toBe(200);
  expect(await statusOf(userId, userCouponId)).toBe("RESERVED");
});

test("reserve, the order is placed and completes: the coupon is USED and cannot be reserved again", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const orderId = randomUUID();
  expect((await reserve(userCouponId, { userId, orderId, orderAmount: 30_000 })).status).toBe(200);
  const place = placed(orderId, userId, userCouponId, 3000);
  await send("OrderPlaced", place);
  await handled(place.eventId);
  expect(await reservationOf(orderId)).toBe("CONFIRMED");
  const done = completed(orderId, userId, 3000);
  await send("OrderCompleted", done);
  await send("OrderCompleted", done); // redelivered
  await handled(done.eventId);
  expect(await statusOf(userId, userCouponId)).toBe("USED");
  expect(await reservationOf(orderId)).toBe("USED");
  const reuse = await reserve(userCouponId, { userId, orderId: randomUUID(), orderAmount: 30_000 });
  expect(reuse.status).toBe(409);
  expect(reuse.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "ALREADY_USED" });
  // A late failure notice for a completed order does not give the coupon back.
  const lateFailure = failed(orderId, userId, userCouponId);
  await send("OrderFailed", lateFailure);
  await handled(lateFailure.eventId);
  expect(await statusOf(userId, userCouponId)).toBe("USED");
});

test("a coupon RESERVED by one order, EXPIRED, of another user, or too small an order is COUPON_NOT_USABLE", async () => {
  const held = await couponOf(fixedCampaign);
  expect((await reserve(held.userCouponId, { userId: held.userId, orderId: randomUUID(), orderAmount: 30_000 })).status).toBe(200);
  const second = await reserve(held.userCouponId, { userId: held.userId, orderId: randomUUID(), orderAmount: 30_000 });
  expect(second.status).toBe(409);
  expect(second.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "ALREADY_RESERVED" });

  const expired = await couponOf(fixedCampaign);
  await f.db.query("UPDATE user_coupons SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.userCouponId]);
  expect(await statusOf(expired.userId, expired.userCouponId)).toBe("EXPIRED");
  const late = await reserve(expired.userCouponId, { userId: expired.userId, orderId: randomUUID(), orderAmount: 30_000 });
  expect(late.status).toBe(409);
  expect(late.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "EXPIRED" });

  const foreign = await couponOf(fixedCampaign);
  const stolen = await reserve(foreign.userCouponId, { userId: newUser(), orderId: randomUUID(), orderAmount: 30_000 });
  expect(stolen.status).toBe(409);
  expect(stolen.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "NOT_OWNER" });
  expect(await statusOf(foreign.userId, foreign.userCouponId)).toBe("AVAILABLE");

  const small = await couponOf(percentCampaign);
  const tooSmall = await reserve(small.userCouponId, { userId: small.userId, orderId: randomUUID(), orderAmount: 19_999 });
  expect(tooSmall.status).toBe(409);
  expect(tooSmall.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "BELOW_MINIMUM_ORDER" });

  const unknown = await reserve(randomUUID(), { userId: small.userId, orderId: randomUUID(), orderAmount: 30_000 });
  expect(unknown.status).toBe(404);
  expect(unknown.body.code).toBe("NOT_FOUND");
});

test("an order can hold only one coupon", async () => {
  const userId = newUser();
  const a = await couponOf(fixedCampaign, userId);
  const b = await couponOf(percentCampaign, userId);
  const orderId = randomUUID();
  expect((await reserve(a.userCouponId, { userId, orderId, orderAmount: 30_000 })).status).toBe(200);
  const other = await reserve(b.userCouponId, { userId, orderId, orderAmount: 30_000 });
  expect(other.status).toBe(409);
  expect(other.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "ORDER_HAS_OTHER_COUPON" });
  expect(await statusOf(userId, b.userCouponId)).toBe("AVAILABLE");
});

test("concurrent reservations of one coupon by different orders: exactly one wins", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const answers = await Promise.all(Array.from({ length: 10 }, () => reserve(userCouponId, { userId, orderId: randomUUID(), orderAmount: 30_000 })));
  expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
  expect(answers.filter((a) => a.status === 409 && a.body.code === "COUPON_NOT_USABLE")).toHaveLength(9);
});

test("a failure that arrives before the reservation leaves a tombstone: nothing is reserved or used for that order later", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const orderId = randomUUID();
  const failure = failed(orderId, userId, userCouponId);
  await send("OrderFailed", failure);
  await handled(failure.eventId);
  expect(await reservationOf(orderId)).toBe("CANCELLED");
  const late = await reserve(userCouponId, { userId, orderId, orderAmount: 30_000 });
  expect(late.status).toBe(409);
  expect(late.body).toMatchObject({ code: "COUPON_NOT_USABLE", reason: "ORDER_FAILED" });
  const place = placed(orderId, userId, userCouponId, 3000);
  await send("OrderPlaced", place);
  await handled(place.eventId);
  expect(await statusOf(userId, userCouponId)).toBe("AVAILABLE");
  expect(await reservationOf(orderId)).toBe("CANCELLED");
});

test("a completion after a release does not resurrect the reservation", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const orderId = randomUUID();
  expect((await reserve(userCouponId, { userId, orderId, orderAmount: 30_000 })).status).toBe(200);
  const failure = failed(orderId, userId, userCouponId);
  await send("OrderFailed", failure);
  await handled(failure.eventId);
  await send("OrderCompleted", completed(orderId, userId, 3000));
  await sleep(1000); // a completion for a released order is dropped without an inbox row: give it time to (not) act
  expect(await statusOf(userId, userCouponId)).toBe("AVAILABLE");
  expect(await reservationOf(orderId)).toBe("RELEASED");
});

test("redelivered failures release once: a later reservation by another order stays held", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const firstOrder = randomUUID();
  expect((await reserve(userCouponId, { userId, orderId: firstOrder, orderAmount: 30_000 })).status).toBe(200);
  const failure = failed(firstOrder, userId, userCouponId);
  await send("OrderFailed", failure);
  await handled(failure.eventId);
  const secondOrder = randomUUID();
  expect((await reserve(userCouponId, { userId, orderId: secondOrder, orderAmount: 30_000 })).status).toBe(200);
  const duplicateNotice = failed(firstOrder, userId, userCouponId); // same order, new event id
  await send("OrderFailed", failure); // same event again
  await send("OrderFailed", duplicateNotice);
  await handled(duplicateNotice.eventId);
  expect(await statusOf(userId, userCouponId)).toBe("RESERVED");
  expect(await f.db.query("SELECT order_id FROM user_coupons WHERE id = $1", [userCouponId])).toEqual([{ order_id: secondOrder }]);
  expect(await f.db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [failure.eventId])).toHaveLength(1);
});

test("a reservation whose order never appears is released after the TTL; a confirmed one is kept", async () => {
  const orphan = await couponOf(fixedCampaign);
  const orphanOrder = randomUUID();
  expect((await reserve(orphan.userCouponId, { userId: orphan.userId, orderId: orphanOrder, orderAmount: 30_000 })).status).toBe(200);
  const kept = await couponOf(fixedCampaign);
  const keptOrder = randomUUID();
  expect((await reserve(kept.userCouponId, { userId: kept.userId, orderId: keptOrder, orderAmount: 30_000 })).status).toBe(200);
  const place = placed(keptOrder, kept.userId, kept.userCouponId, 3000);
  await send("OrderPlaced", place);
  await handled(place.eventId);

  await eventually(async () => expect(await statusOf(orphan.userId, orphan.userCouponId)).toBe("AVAILABLE"), RESERVATION_TTL_MS * 5);
  expect(await reservationOf(orphanOrder)).toBe("LAPSED");
  await sleep(500);
  expect(await statusOf(kept.userId, kept.userCouponId)).toBe("RESERVED");
  expect(await reservationOf(keptOrder)).toBe("CONFIRMED");
  // The released coupon serves a new order.
  expect((await reserve(orphan.userCouponId, { userId: orphan.userId, orderId: randomUUID(), orderAmount: 30_000 })).status).toBe(200);
});

test("a placed order's reservation is not released by time while its OrderPlaced is late (a lagging consumer): its coupon never goes to a second order", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const orderId = randomUUID();
  expect((await reserve(userCouponId, { userId, orderId, orderAmount: 30_000 })).status).toBe(200);
  await recordPlacedOrder(orderId, userId, userCouponId);
  // Well past the TTL, with the sweeper running every 200 ms.
  await sleep(RESERVATION_TTL_MS * 2);
  expect(await reservationOf(orderId)).toBe("RESERVED");
  expect(await statusOf(userId, userCouponId)).toBe("RESERVED");
  expect((await reserve(userCouponId, { userId, orderId: randomUUID(), orderAmount: 30_000 })).status).toBe(409);
  // The late events still settle it.
  const place = placed(orderId, userId, userCouponId, 3000);
  await send("OrderPlaced", place);
  await handled(place.eventId);
  const done = completed(orderId, userId, 3000);
  await send("OrderCompleted", done);
  await handled(done.eventId);
  expect(await statusOf(userId, userCouponId)).toBe("USED");
});

test("an order that appears after its reservation lapsed takes the coupon back if it is still free", async () => {
  const { userId, userCouponId } = await couponOf(fixedCampaign);
  const orderId = randomUUID();
  expect((await reserve(userCouponId, { userId, orderId, orderAmount: 30_000 })).status).toBe(200);
  await eventually(async () => expect(await reservationOf(orderId)).toBe("LAPSED"), RESERVATION_TTL_MS * 5);
  expect(await statusOf(userId, userCouponId)).toBe("AVAILABLE");
  const place = placed(orderId, userId, userCouponId, 3000);
  await send("OrderPlaced", place);
  await handled(place.eventId);
  expect(await reservationOf(orderId)).toBe("CONFIRMED");
  const done = completed(orderId, userId, 3000);
  await send("OrderCompleted", done);
  await handled(done.eventId);
  expect(await statusOf(userId, userCouponId)).toBe("USED");
});
