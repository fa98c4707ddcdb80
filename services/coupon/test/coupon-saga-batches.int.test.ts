// The saga's set-based SQL against real PostgreSQL: batches of several orders in one transaction
// (running.saga.handle, as the consumer calls it for a partition's records), concurrent batches
// over the same coupons, and the report of a completed order whose lapsed coupon is gone.
import { randomBytes, randomUUID } from "node:crypto";
import { parseDatabaseUrl } from "@shop/config";
import type { Logger } from "@shop/logging";
import { createSqlPool } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { build, silentLogger } from "@shop/testing";
import { CouponSagaRepository } from "../src/data/coupon-saga-repository.ts";
import { couponSaga } from "../src/domain/saga-participant.ts";
import { createCampaign, issue, startCouponFixture, type CouponFixture } from "./support.ts";

const REDIS_DB = 6;

let f: CouponFixture;
/** A user holds one coupon per campaign: a few campaigns give one user several coupons. */
let campaigns: { id: string }[];

beforeAll(async () => {
  f = await startCouponFixture("coupon-batches", REDIS_DB);
  campaigns = [];
  for (let i = 0; i < 3; i++)
    campaigns.push(await createCampaign(f.client, { discountType: "FIXED", discountValue: 3000, maxDiscountAmount: undefined, totalQuantity: 10_000 }));
});
afterAll(async () => {
  await f?.stop();
});

const newUser = () => `batch-${randomBytes(4).toString("hex")}`;

/** An AVAILABLE 3,000 KRW coupon of the user's (of campaign `n`: one per user and campaign). */
async function couponOf(userId = newUser(), n = 0) {
  const response = await issue(f.client, userId, campaigns[n]!.id);
  expect(response.status).toBe(201);
  return { userId, userCouponId: response.body.userCouponId as string };
}

/** The order service's synchronous step: the coupon RESERVED for a new order. */
async function reserved(owned: { userId: string; userCouponId: string }) {
  const orderId = randomUUID();
  const response = await f.client.post(`/internal/v1/user-coupons/${owned.userCouponId}/reservations`, { userId: owned.userId, orderId, orderAmount: 30_000 });
  expect(response.status).toBe(200);
  return { ...owned, orderId };
}

/** What the orphan sweeper leaves behind: the reservation LAPSED, its coupon AVAILABLE again. */
async function lapse(orderId: string, userCouponId: string) {
  await f.db.query("UPDATE coupon_reservations SET status = 'LAPSED' WHERE order_id = $1", [orderId]);
  await f.db.query("UPDATE user_coupons SET status = 'AVAILABLE', order_id = NULL WHERE id = $1", [userCouponId]);
}

const couponState = async (userCouponId: string) =>
  (await f.db.query<{ status: string; order_id: string | null }>("SELECT status::text, order_id FROM user_coupons WHERE id = $1", [userCouponId]))[0];
const reservationOf = async (orderId: string) =>
  (
    await f.db.query<{ status: string; user_coupon_id: string | null; discount_amount: string }>(
      "SELECT status::text, user_coupon_id::text, discount_amount::text FROM coupon_reservations WHERE order_id = $1",
      [orderId],
    )
  )[0];

const placed = (o: { orderId: string; userId: string }, userCouponId: string | null, discountAmount = 3000) =>
  build.orderPlaced({ orderId: o.orderId, userId: o.userId, userCouponId, discountAmount });
const failed = (o: { orderId: string; userId: string }, userCouponId: string | null) =>
  build.orderFailed({ orderId: o.orderId, userId: o.userId, userCouponId });
const completed = (o: { orderId: string; userId: string }) => build.orderCompleted({ orderId: o.orderId, userId: o.userId, discountAmount: 3000 });

test("one OrderFailed batch gives back the failed orders' coupons, tombstones an order with nothing reserved, and leaves unrelated orders' coupons alone", async () => {
  const userId = newUser();
  const failing = await reserved(await couponOf(userId, 0));
  const confirmedThenFailing = await reserved(await couponOf(newUser()));
  await f.service.saga.handle("OrderPlaced", [placed(confirmedThenFailing, confirmedThenFailing.userCouponId)]);
  expect(await reservationOf(confirmedThenFailing.orderId)).toMatchObject({ status: "CONFIRMED" });
  // An order of the same user that is not in the batch, and one whose failure names its coupon: both keep it.
  const bystander = await reserved(await couponOf(userId, 1));
  const neverReserved = { orderId: randomUUID(), userId };

  const batch = [
    failed(failing, failing.userCouponId),
    failed(neverReserved, bystander.userCouponId),
    failed(confirmedThenFailing, confirmedThenFailing.userCouponId),
    failed(failing, failing.userCouponId), // the same failure again, another event id
  ];
  await f.service.saga.handle("OrderFailed", batch);

  expect(await couponState(failing.userCouponId)).toEqual({ status: "AVAILABLE", order_id: null });
  expect(await reservationOf(failing.orderId)).toMatchObject({ status: "RELEASED" });
  expect(await couponState(confirmedThenFailing.userCouponId)).toEqual({ status: "AVAILABLE", order_id: null });
  expect(await reservationOf(confirmedThenFailing.orderId)).toMatchObject({ status: "RELEASED" });
  expect(await reservationOf(neverReserved.orderId)).toEqual({ status: "CANCELLED", user_coupon_id: bystander.userCouponId, discount_amount: "0" });
  expect(await couponState(bystander.userCouponId)).toEqual({ status: "RESERVED", order_id: bystander.orderId });
  expect(await reservationOf(bystander.orderId)).toMatchObject({ status: "RESERVED" });
  expect(
    await f.db.query("SELECT 1 FROM inbox_events WHERE consumer = 'coupon.release-reservation' AND event_id = ANY($1::uuid[])", [batch.map((e) => e.eventId)]),
  ).toHaveLength(4);

  // A new order takes the given-back coupon; the whole batch redelivered changes nothing.
  const next = await reserved({ userId, userCouponId: failing.userCouponId });
  await f.service.saga.handle("OrderFailed", batch);
  expect(await couponState(failing.userCouponId)).toEqual({ status: "RESERVED", order_id: next.orderId });
  expect(await reservationOf(neverReserved.orderId)).toMatchObject({ status: "CANCELLED" });
});

test("a tombstone keeps null for a coupon id that cannot name a coupon", async () => {
  const order = { orderId: randomUUID(), userId: newUser() };
  await f.service.saga.handle("OrderFailed", [failed(order, "not-a-uuid")]);
  expect(await reservationOf(order.orderId)).toEqual({ status: "CANCELLED", user_coupon_id: null, discount_amount: "0" });
});

test("one OrderPlaced batch, then one OrderCompleted batch, over several orders of one user: confirmed, retaken once, used once", async () => {
  const userId = newUser();
  const confirmedOrder = await reserved(await couponOf(userId, 0));
  // Two orders whose reservations lapsed, both naming one coupon (a retried checkout): only one can have it,
  // however the first spells its id.
  const shared = await reserved(await couponOf(userId, 1));
  await lapse(shared.orderId, shared.userCouponId);
  const first = { orderId: shared.orderId, userId };
  const second = { orderId: randomUUID(), userId };
  const withoutCoupon = { orderId: randomUUID(), userId };

  await f.service.saga.handle("OrderPlaced", [
    placed(confirmedOrder, confirmedOrder.userCouponId),
    placed(first, shared.userCouponId.toUpperCase(), 2500),
    placed(second, shared.userCouponId),
    placed(withoutCoupon, null, 0),
  ]);
  expect(await reservationOf(confirmedOrder.orderId)).toEqual({ status: "CONFIRMED", user_coupon_id: confirmedOrder.userCouponId, discount_amount: "3000" });
  expect(await reservationOf(first.orderId)).toEqual({ status: "CONFIRMED", user_coupon_id: shared.userCouponId, discount_amount: "2500" });
  expect(await reservationOf(second.orderId)).toEqual({ status: "LAPSED", user_coupon_id: shared.userCouponId, discount_amount: "0" });
  expect(await reservationOf(withoutCoupon.orderId)).toBeUndefined();
  expect(await couponState(shared.userCouponId)).toEqual({ status: "RESERVED", order_id: first.orderId });

  await f.service.saga.handle("OrderCompleted", [completed(confirmedOrder), completed(first), completed(second), completed(withoutCoupon)]);
  expect(await couponState(confirmedOrder.userCouponId)).toEqual({ status: "USED", order_id: confirmedOrder.orderId });
  expect(await reservationOf(confirmedOrder.orderId)).toMatchObject({ status: "USED" });
  expect(await couponState(shared.userCouponId)).toEqual({ status: "USED", order_id: first.orderId });
  expect(await reservationOf(first.orderId)).toMatchObject({ status: "USED" });
  expect(await reservationOf(second.orderId)).toMatchObject({ status: "LAPSED" });
  expect(await reservationOf(withoutCoupon.orderId)).toBeUndefined();
});

test("a completed order whose lapsed coupon another order took does not use it, and the batch reports it as an error once committed", async () => {
  const errors: unknown[] = [];
  // The service's logger, its error level recorded.
  const logger: Logger = silentLogger.child({});
  logger.error = (...args: unknown[]) => void errors.push(args);
  const location = parseDatabaseUrl(f.db.databaseUrl);
  const pool = createSqlPool(location, { size: 2, name: "coupon-batches", logger });
  try {
    const runner = new ParticipantRunner({
      participant: couponSaga,
      repository: new CouponSagaRepository(logger),
      pool,
      outbox: { schema: location.schema, topicPrefix: "" },
    });
    const lapsed = await reserved(await couponOf());
    await lapse(lapsed.orderId, lapsed.userCouponId);
    const taker = await reserved(lapsed);

    await runner.handle("OrderCompleted", [completed(lapsed)]);
    expect(await couponState(lapsed.userCouponId)).toEqual({ status: "RESERVED", order_id: taker.orderId });
    expect(await reservationOf(lapsed.orderId)).toMatchObject({ status: "LAPSED" });
    expect(errors).toEqual([[{ orderId: lapsed.orderId, userCouponId: lapsed.userCouponId }, expect.stringContaining("not used twice")]]);
  } finally {
    await pool.end();
  }
});

test("concurrent OrderPlaced and OrderFailed batches over the same coupons, delivered in opposite orders, never deadlock and end consistent", async () => {
  for (let round = 0; round < 3; round++) {
    // Each coupon is held by an order about to fail, while another order of its user wants it after a lapse.
    const held = await Promise.all(Array.from({ length: 12 }, async () => reserved(await couponOf())));
    const wanting = held.map((h) => ({ orderId: randomUUID(), userId: h.userId, userCouponId: h.userCouponId }));
    await Promise.all([
      f.service.saga.handle(
        "OrderPlaced",
        wanting.map((w) => placed(w, w.userCouponId)),
      ),
      f.service.saga.handle(
        "OrderFailed",
        [...held].reverse().map((h) => failed(h, h.userCouponId)),
      ),
    ]);
    for (const [i, h] of held.entries()) {
      expect(await reservationOf(h.orderId)).toMatchObject({ status: "RELEASED" });
      // Whichever batch came first: the wanting order holds the coupon, or it lapsed and the coupon is free.
      const taken = (await reservationOf(wanting[i]!.orderId))!.status === "CONFIRMED";
      expect(await couponState(h.userCouponId)).toEqual(
        taken ? { status: "RESERVED", order_id: wanting[i]!.orderId } : { status: "AVAILABLE", order_id: null },
      );
    }
  }
});
