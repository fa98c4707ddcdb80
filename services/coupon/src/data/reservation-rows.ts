import type { Reservation, ReservationStatus } from "../domain/model.ts";

// Shared by the store (reserve, lapse) and the saga repository, which read and write the same rows.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids from events are unchecked text; only a UUID can name a user coupon (and survive a ::uuid cast). */
export const isUuid = (id: string): boolean => UUID.test(id);

/** pg returns BIGINT as a string (amounts are safe integers), uuid and enums as text, timestamptz as Date. */
export interface ReservationRow {
  orderId: string;
  userCouponId: string | null;
  userId: string;
  status: ReservationStatus;
  discountAmount: string;
  reservedAt: Date;
}

/** Over `coupon_reservations`. */
export const RESERVATION_COLUMNS = `order_id AS "orderId", user_coupon_id::text AS "userCouponId", user_id AS "userId", status::text AS status,
  discount_amount AS "discountAmount", reserved_at AS "reservedAt"`;

export const toReservation = (row: ReservationRow): Reservation => ({
  orderId: row.orderId,
  userCouponId: row.userCouponId,
  userId: row.userId,
  status: row.status,
  discountAmount: Number(row.discountAmount),
  reservedAt: row.reservedAt,
});
