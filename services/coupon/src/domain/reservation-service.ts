import { NotFoundError } from "@shop/errors";
import type { OrderCompleted, OrderFailed, OrderPlaced } from "@shop/events";
import type { Logger } from "@shop/logging";
import { CouponNotUsableError } from "./errors.ts";
import type { Reservation, ReservationReceipt, UserCouponDisplayStatus, UserCouponWithTerms } from "./model.ts";
import type { CouponStore, ReservationTransaction } from "./ports.ts";
import { computeDiscount, displayStatus, unusableReason } from "./rules.ts";

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

/** Saga consumers; each name is the inbox scope of one reaction. */
const ON_ORDER_PLACED = "coupon.confirm-reservation";
const ON_ORDER_COMPLETED = "coupon.use-reservation";
const ON_ORDER_FAILED = "coupon.release-reservation";

/** Reservation states that still hold the coupon for their order. */
const HOLDING = new Set<Reservation["status"]>(["RESERVED", "CONFIRMED"]);

/**
 * Coupons in orders. The order service reserves synchronously (before committing its order);
 * the saga events then confirm, use or release the reservation. Every step runs under a lock on
 * the order, so any arrival order of events and retries ends in one consistent state.
 */
export class ReservationService {
  constructor(
    private readonly store: CouponStore,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async listForUser(userId: string): Promise<UserCouponListItem[]> {
    const now = this.clock();
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
      const reason = unusableReason(coupon, coupon.campaign, userId, orderAmount, this.clock());
      if (reason) throw new CouponNotUsableError(userCouponId, reason);
      const discountAmount = computeDiscount(coupon.campaign, orderAmount);
      await tx.setUserCouponState(userCouponId, "RESERVED", orderId);
      await tx.saveReservation({ orderId, userCouponId, userId, status: "RESERVED", discountAmount, reservedAt: this.clock() });
      return { userCouponId, couponId: coupon.couponId, orderId, discountAmount, status: "RESERVED" };
    });
  }

  /** OrderPlaced: the order exists, so its reservation is no longer an orphan. */
  confirmForPlacedOrder(event: OrderPlaced): Promise<void> {
    if (!event.userCouponId) return Promise.resolve();
    const userCouponId = event.userCouponId;
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_PLACED))) return;
      await tx.lockOrder(event.orderId);
      const reservation = await tx.findReservation(event.orderId);
      if (reservation?.status === "RESERVED") {
        await tx.saveReservation({ ...reservation, status: "CONFIRMED" });
        return;
      }
      if (reservation && reservation.status !== "LAPSED") return; // confirmed, used, released or cancelled already
      // The order committed but its reservation lapsed (or was never made): take the coupon again if it is still free.
      const held = await this.retake(tx, userCouponId, event.userId, event.orderId);
      await tx.saveReservation({ orderId: event.orderId, userCouponId, userId: event.userId, status: held ? "CONFIRMED" : "LAPSED", discountAmount: held ? event.discountAmount : 0, reservedAt: reservation?.reservedAt ?? this.clock() });
    });
  }

  /** OrderCompleted: the coupon held for the order is used. Completions without a coupon change nothing. */
  async useForCompletedOrder(event: OrderCompleted): Promise<void> {
    // Most orders have no coupon: one read instead of a transaction. A reservation is only ever made
    // before its order is placed, so none can appear for an order that has already completed.
    if (!(await this.store.hasReservation(event.orderId))) return;
    return this.store.transaction(async (tx) => {
      await tx.lockOrder(event.orderId);
      const reservation = await tx.findReservation(event.orderId);
      if (!reservation?.userCouponId || !(HOLDING.has(reservation.status) || reservation.status === "LAPSED")) return;
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_COMPLETED))) return;
      if (reservation.status === "LAPSED" && !(await this.retake(tx, reservation.userCouponId, reservation.userId, event.orderId))) {
        this.logger.error({ orderId: event.orderId, userCouponId: reservation.userCouponId }, "completed order's coupon lapsed and is taken by another order; not used twice");
        return;
      }
      await tx.setUserCouponState(reservation.userCouponId, "USED", event.orderId);
      await tx.saveReservation({ ...reservation, status: "USED" });
    });
  }

  /**
   * OrderFailed: a coupon held for the order is available again, once. If nothing was reserved
   * for the order yet, a tombstone makes sure nothing will be.
   */
  releaseForFailedOrder(event: OrderFailed): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_FAILED))) return;
      await tx.lockOrder(event.orderId);
      const reservation = await tx.findReservation(event.orderId);
      if (!reservation) {
        await tx.saveReservation({ orderId: event.orderId, userCouponId: event.userCouponId, userId: event.userId, status: "CANCELLED", discountAmount: 0, reservedAt: this.clock() });
        return;
      }
      if (reservation.status === "LAPSED") {
        await tx.saveReservation({ ...reservation, status: "RELEASED" });
        return;
      }
      if (!HOLDING.has(reservation.status)) return; // used, released or cancelled already
      await this.giveBack(tx, reservation);
      await tx.saveReservation({ ...reservation, status: "RELEASED" });
    });
  }

  /**
   * Releases reservations whose order never showed up (the order service crashed between
   * reserving and committing its order): no OrderPlaced within `ttlMs`.
   */
  async releaseOrphans(ttlMs: number, batchSize = 100): Promise<number> {
    const orderIds = await this.store.orphanReservations(new Date(this.clock().getTime() - ttlMs), batchSize);
    let released = 0;
    for (const orderId of orderIds) {
      const done = await this.store.transaction(async (tx) => {
        await tx.lockOrder(orderId);
        const reservation = await tx.findReservation(orderId);
        // Re-checked under the lock: OrderPlaced may have confirmed it meanwhile.
        if (reservation?.status !== "RESERVED" || this.clock().getTime() - reservation.reservedAt.getTime() < ttlMs) return false;
        await this.giveBack(tx, reservation);
        await tx.saveReservation({ ...reservation, status: "LAPSED" });
        return true;
      });
      if (done) released++;
    }
    if (released) this.logger.warn({ released }, "released coupon reservations whose order never appeared");
    return released;
  }

  /** The coupon goes back to AVAILABLE only if it is still held for this very order. */
  private async giveBack(tx: ReservationTransaction, reservation: Reservation): Promise<void> {
    if (!reservation.userCouponId) return;
    const coupon = await tx.lockUserCoupon(reservation.userCouponId);
    if (coupon?.status === "RESERVED" && coupon.orderId === reservation.orderId) await tx.setUserCouponState(coupon.id, "AVAILABLE", null);
  }

  /** Holds the coupon for an order again after its reservation lapsed; false if it is no longer free. */
  private async retake(tx: ReservationTransaction, userCouponId: string, userId: string, orderId: string): Promise<boolean> {
    const coupon = await tx.lockUserCoupon(userCouponId);
    if (!coupon || coupon.userId !== userId) return false;
    if (coupon.orderId === orderId && coupon.status !== "AVAILABLE") return true;
    if (coupon.status !== "AVAILABLE") return false;
    await tx.setUserCouponState(userCouponId, "RESERVED", orderId);
    return true;
  }
}
