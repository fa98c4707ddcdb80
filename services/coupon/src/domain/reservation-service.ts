import { NotFoundError } from "@shop/errors";
import type { Logger } from "@shop/logging";
import { CouponNotUsableError } from "./errors.ts";
import type { Reservation, ReservationReceipt, UserCouponDisplayStatus, UserCouponWithTerms } from "./model.ts";
import type { Clock, CouponStore, PlacedOrders, ReservationTransaction } from "./ports.ts";
import { computeDiscount, displayStatus, isReservedFor, unusableReason } from "./rules.ts";

export interface ReserveCommand {
  userCouponId: string;
  userId: string;
  orderId: string;
  orderAmount: number;
}

export interface UserCouponListItem {
  userCouponId: string;
  couponId: string;
  name: string;
  discountType: UserCouponWithTerms["campaign"]["discountType"];
  discountValue: number;
  status: UserCouponDisplayStatus;
  expiresAt: Date;
}

/**
 * Coupons in orders, outside the saga's events. The order service reserves synchronously (before
 * committing its order); the saga events then confirm, use or release the reservation (see
 * saga-participant.ts); reservations whose order never appears lapse. Every step runs under the
 * same lock on the order as the saga's batches, so any interleaving ends in one consistent state.
 */
export class ReservationService {
  constructor(
    private readonly store: CouponStore,
    private readonly orders: PlacedOrders,
    private readonly logger: Logger,
    private readonly now: Clock,
  ) {}

  async listForUser(userId: string): Promise<UserCouponListItem[]> {
    const now = this.now();
    return (await this.store.userCoupons(userId)).map((c) => ({
      userCouponId: c.id,
      couponId: c.couponId,
      name: c.campaign.name,
      discountType: c.campaign.discountType,
      discountValue: c.campaign.discountValue,
      status: displayStatus(c, now),
      expiresAt: c.expiresAt,
    }));
  }

  /**
   * Holds a coupon for an order and prices it. A retry for the same order returns the same
   * reservation; a coupon of another user is COUPON_NOT_USABLE (like any unusable coupon), an id
   * that does not exist at all is NOT_FOUND.
   */
  reserve(command: ReserveCommand): Promise<ReservationReceipt> {
    const { userCouponId, userId, orderId, orderAmount } = command;
    return this.store.transaction(async (tx) => {
      await tx.lockOrder(orderId);
      const existing = await tx.findReservation(orderId);
      // A LAPSED reservation is void: the order may reserve afresh (the same or another coupon).
      if (existing && existing.status !== "LAPSED") {
        if (existing.status === "RELEASED" || existing.status === "CANCELLED") throw new CouponNotUsableError(userCouponId, "ORDER_FAILED");
        if (existing.userCouponId !== userCouponId || existing.userId !== userId) throw new CouponNotUsableError(userCouponId, "ORDER_HAS_OTHER_COUPON");
        if (existing.status === "USED") throw new CouponNotUsableError(userCouponId, "ORDER_COMPLETED");
        const held = await tx.lockUserCoupon(userCouponId);
        return { userCouponId, couponId: held!.couponId, orderId, discountAmount: existing.discountAmount, status: "RESERVED" };
      }
      const coupon = await tx.lockUserCoupon(userCouponId);
      if (!coupon) throw new NotFoundError("user coupon", { userCouponId });
      const reason = unusableReason(coupon, coupon.campaign, userId, orderAmount, this.now());
      if (reason) throw new CouponNotUsableError(userCouponId, reason);
      const discountAmount = computeDiscount(coupon.campaign, orderAmount);
      await tx.setUserCouponState(userCouponId, "RESERVED", orderId);
      await tx.saveReservation({ orderId, userCouponId, userId, status: "RESERVED", discountAmount, reservedAt: this.now() });
      return { userCouponId, couponId: coupon.couponId, orderId, discountAmount, status: "RESERVED" };
    });
  }

  /**
   * Releases reservations whose order never showed up (the order service crashed between
   * reserving and committing its order): still RESERVED (no OrderPlaced seen) after `ttlMs`, and
   * the order service confirms it has no such order. A placed order's reservation is never
   * released by time: its own events confirm, use or release it, however late this service's
   * consumer is, so its coupon cannot go to a second order. If the order service cannot answer,
   * nothing is released this round.
   */
  async releaseOrphans(ttlMs: number, batchSize = 100): Promise<number> {
    const orderIds = await this.store.orphanReservations(new Date(this.now().getTime() - ttlMs), batchSize);
    let released = 0;
    let awaitingEvents = 0;
    for (const orderId of orderIds) {
      let placed: boolean;
      try {
        placed = await this.orders.wasPlaced(orderId);
      } catch (error) {
        this.logger.warn({ err: error, orderId }, "cannot tell whether the order of an old reservation was placed; it stays reserved for now");
        break;
      }
      if (placed) {
        awaitingEvents++;
        continue;
      }
      const done = await this.store.transaction(async (tx) => {
        await tx.lockOrder(orderId);
        const reservation = await tx.findReservation(orderId);
        // Re-checked under the lock: OrderPlaced may have confirmed it meanwhile.
        if (reservation?.status !== "RESERVED" || this.now().getTime() - reservation.reservedAt.getTime() < ttlMs) return false;
        await this.giveBack(tx, reservation);
        await tx.saveReservation({ ...reservation, status: "LAPSED" });
        return true;
      });
      if (done) released++;
    }
    if (released) this.logger.warn({ released }, "released coupon reservations whose order was never placed");
    if (awaitingEvents)
      this.logger.warn({ reservations: awaitingEvents }, "reservations of placed orders still wait for OrderPlaced: is the saga consumer lagging?");
    return released;
  }

  /** The coupon goes back to AVAILABLE only if it is still held for this very order. */
  private async giveBack(tx: ReservationTransaction, reservation: Reservation): Promise<void> {
    if (!reservation.userCouponId) return;
    const coupon = await tx.lockUserCoupon(reservation.userCouponId);
    if (coupon && isReservedFor(coupon, reservation.orderId)) await tx.setUserCouponState(coupon.id, "AVAILABLE", null);
  }
}
