import type { Logger } from "@shop/logging";
import type { SqlTransaction } from "@shop/outbox";
import type { AfterCommit, ParticipantRepository, SagaEvent } from "@shop/saga";
import type { UserCouponStatus } from "../domain/model.ts";
import type { CouponHolding, CouponSagaEffect, CouponSagaState } from "../domain/saga-participant.ts";
import { isUuid, RESERVATION_COLUMNS, toReservation, type ReservationRow } from "./reservation-rows.ts";

/**
 * Locks the user coupons a batch may change, in id order in one statement: concurrent batches
 * (and reserve, which locks one coupon after its order) wait for each other and never deadlock.
 * NO KEY UPDATE is enough: the saga changes status and order, never the key.
 */
const LOCK_USER_COUPONS = `
WITH locked AS MATERIALIZED (
  SELECT u.id, u.user_id, u.status, u.order_id FROM user_coupons u WHERE u.id = ANY($1::uuid[]) ORDER BY u.id FOR NO KEY UPDATE
)
SELECT id::text AS id, user_id AS "userId", status::text AS status, order_id AS "orderId" FROM locked`;

interface CouponHoldingRow {
  id: string;
  userId: string;
  status: UserCouponStatus;
  orderId: string | null;
}

const toHolding = (row: CouponHoldingRow): CouponHolding => ({ id: row.id, userId: row.userId, status: row.status, orderId: row.orderId });

/** Reservations (and tombstones) as the batch left them, written in one statement. */
const UPSERT_RESERVATIONS = `
INSERT INTO coupon_reservations (order_id, user_coupon_id, user_id, status, discount_amount, reserved_at, updated_at)
SELECT r.order_id, r.user_coupon_id, r.user_id, r.status::reservation_status, r.discount_amount, r.reserved_at, now()
FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[]) AS r(order_id, user_coupon_id, user_id, status, discount_amount, reserved_at)
ON CONFLICT (order_id) DO UPDATE SET user_coupon_id = EXCLUDED.user_coupon_id, user_id = EXCLUDED.user_id, status = EXCLUDED.status,
  discount_amount = EXCLUDED.discount_amount, reserved_at = EXCLUDED.reserved_at, updated_at = EXCLUDED.updated_at`;

/** Who holds each changed user coupon now, in one statement (the rows are locked since load, so they exist). */
const UPDATE_USER_COUPONS = `
UPDATE user_coupons u SET status = c.status::user_coupon_status, order_id = c.order_id, updated_at = now()
FROM unnest($1::uuid[], $2::text[], $3::text[]) AS c(id, status, order_id)
WHERE u.id = c.id`;

/**
 * The coupon saga's state in PostgreSQL: a batch's reservations and the user coupons they (or the
 * events) name. The runner holds the batch's order locks, so the reservations need no row locks;
 * the user coupons do, since other orders (other batches, reserve) may hold the same coupon.
 */
export class CouponSagaRepository implements ParticipantRepository<CouponSagaState, CouponSagaEffect> {
  constructor(private readonly logger: Logger) {}

  async load(tx: SqlTransaction, events: SagaEvent[]): Promise<CouponSagaState> {
    const orderIds = [...new Set(events.map((e) => e.orderId))];
    const rows = await tx.query<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM coupon_reservations WHERE order_id = ANY($1::text[])`, [orderIds]);
    const reservations = new Map(rows.map((row) => [row.orderId, toReservation(row)]));
    // A reservation's coupon (to use or give back) and an event's (an OrderPlaced takes it again after
    // a lapse; an OrderFailed's is mostly its reservation's already).
    const named = [...reservations.values()].map((r) => r.userCouponId).concat(events.map((e) => ("userCouponId" in e ? e.userCouponId : null)));
    const couponIds = [...new Set(named.filter((id): id is string => id !== null && isUuid(id)))];
    const holdings = couponIds.length ? await tx.query<CouponHoldingRow>(LOCK_USER_COUPONS, [couponIds]) : [];
    return { reservations, userCoupons: new Map(holdings.map((row) => [row.id, toHolding(row)])) };
  }

  async save(tx: SqlTransaction, effects: CouponSagaEffect[], state: CouponSagaState): Promise<AfterCommit | void> {
    // Each changed record is written once, as the whole batch left it.
    const orderIds = new Set<string>();
    const couponIds = new Set<string>();
    const lost: { orderId: string; userCouponId: string }[] = [];
    for (const effect of effects) {
      switch (effect.kind) {
        case "confirmed":
        case "lapsed":
        case "used":
        case "released":
        case "cancelled":
          orderIds.add(effect.reservation.orderId);
          break;
        case "couponRetaken":
        case "couponUsed":
        case "couponGivenBack":
          couponIds.add(effect.userCouponId);
          break;
        case "lapsedCouponLost":
          lost.push(effect);
      }
    }
    if (orderIds.size) await this.writeReservations(tx, [...orderIds], state);
    if (couponIds.size) await this.writeUserCoupons(tx, [...couponIds], state);
    if (lost.length === 0) return;
    // Reported once the batch is committed (a rolled-back batch comes again and would report twice).
    return async () => {
      for (const { orderId, userCouponId } of lost)
        this.logger.error({ orderId, userCouponId }, "completed order's coupon lapsed and is taken by another order; not used twice");
    };
  }

  private async writeReservations(tx: SqlTransaction, orderIds: string[], state: CouponSagaState): Promise<void> {
    const written = orderIds.map((id) => state.reservations.get(id)!);
    await tx.execute(UPSERT_RESERVATIONS, [
      written.map((r) => r.orderId),
      // A malformed coupon id in an event cannot name a coupon: the tombstone keeps null instead.
      written.map((r) => (r.userCouponId && isUuid(r.userCouponId) ? r.userCouponId : null)),
      written.map((r) => r.userId),
      written.map((r) => r.status),
      written.map((r) => r.discountAmount),
      written.map((r) => r.reservedAt),
    ]);
  }

  private async writeUserCoupons(tx: SqlTransaction, couponIds: string[], state: CouponSagaState): Promise<void> {
    const written = couponIds.map((id) => state.userCoupons.get(id)!);
    await tx.execute(UPDATE_USER_COUPONS, [written.map((c) => c.id), written.map((c) => c.status), written.map((c) => c.orderId)]);
  }
}
