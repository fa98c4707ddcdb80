import type { OrderCompleted, OrderFailed, OrderPlaced } from "@shop/events";
import { decision, ignore, type Decision, type DecisionContext, type SagaParticipant } from "@shop/saga";
import type { Reservation, ReservationStatus, UserCoupon } from "./model.ts";
import { isReservedFor } from "./rules.ts";

// The coupon service in the order saga, free of I/O: OrderPlaced confirms the reservation the
// order service made over HTTP before committing its order, OrderCompleted uses the coupon,
// OrderFailed gives it back. It answers with no events. The runner (@shop/saga) feeds it a batch
// of one event type at a time, under the orders' locks, on the state CouponSagaRepository loaded.

/** Saga consumers; each name is the inbox scope of one reaction (unchanged, so old events stay deduplicated). */
export const ON_ORDER_PLACED = "coupon.confirm-reservation";
export const ON_ORDER_COMPLETED = "coupon.use-reservation";
export const ON_ORDER_FAILED = "coupon.release-reservation";

/** Who holds a user coupon: all a saga decision reads of it. */
export type CouponHolding = Pick<UserCoupon, "id" | "userId" | "status" | "orderId">;

export interface CouponSagaState {
  /** The batch's orders' reservations (or tombstones); an order with nothing recorded is absent. */
  reservations: ReadonlyMap<string, Reservation>;
  /** The user coupons those reservations and the events name, by id; locked until the batch commits. */
  userCoupons: ReadonlyMap<string, CouponHolding>;
}

/** The order's reservation as it stands after the step; the kind says which status it has. */
type Recorded<S extends ReservationStatus> = Reservation & { status: S };

export type CouponSagaEffect =
  /** OrderPlaced: the order exists, its coupon stays held for it (no longer an orphan to release). */
  | { kind: "confirmed"; reservation: Recorded<"CONFIRMED"> }
  /** OrderPlaced after the reservation lapsed (or was never made), and the coupon was no longer free. */
  | { kind: "lapsed"; reservation: Recorded<"LAPSED"> }
  /** OrderCompleted: the coupon is spent on the order. */
  | { kind: "used"; reservation: Recorded<"USED"> }
  /** OrderFailed: whatever the order held is given back; the order can never hold a coupon again. */
  | { kind: "released"; reservation: Recorded<"RELEASED"> }
  /** OrderFailed before anything was reserved: the tombstone that refuses a later reservation. */
  | { kind: "cancelled"; reservation: Recorded<"CANCELLED"> }
  /** A lapsed reservation's coupon, still free, is held for its order again. */
  | { kind: "couponRetaken"; userCouponId: string; orderId: string }
  | { kind: "couponUsed"; userCouponId: string; orderId: string }
  | { kind: "couponGivenBack"; userCouponId: string }
  /**
   * An order completed (with its discount) after its reservation lapsed and another order took
   * the coupon: it is not used twice. Nothing changes; the repository reports it as an error.
   */
  | { kind: "lapsedCouponLost"; orderId: string; userCouponId: string };

/** Reservation states that still hold the coupon for their order. */
const HOLDING = new Set<ReservationStatus>(["RESERVED", "CONFIRMED"]);

type Effects = CouponSagaEffect[];

export const couponSaga: SagaParticipant<CouponSagaState, CouponSagaEffect> = {
  // The same order-lock key as ReservationService.reserve's, so HTTP reservations and event batches on one order serialise.
  service: "coupon",
  reactions: {
    OrderPlaced: { consumer: ON_ORDER_PLACED, concerns: placedWithCoupon, decide: confirmForPlacedOrder },
    // OrderCompleted names no coupon (it is the data platform's record): the reservation says.
    OrderCompleted: { consumer: ON_ORDER_COMPLETED, decide: useForCompletedOrder },
    OrderFailed: { consumer: ON_ORDER_FAILED, concerns: placedWithCoupon, decide: releaseForFailedOrder },
  },
  evolve,
};

/**
 * Only an order placed with a coupon ever had one reserved (placement reserves it before the order
 * exists, and the order's events carry its coupon): the others are none of this service's business.
 */
export function placedWithCoupon(event: OrderPlaced | OrderFailed): boolean {
  return event.userCouponId != null;
}

/** OrderPlaced: the order exists, so its reservation is no longer an orphan. Orders without a coupon change nothing. */
function confirmForPlacedOrder(state: CouponSagaState, event: OrderPlaced, context: DecisionContext): Decision<CouponSagaEffect> {
  const { orderId, userId, userCouponId } = event;
  if (!userCouponId) return ignore();
  const reservation = state.reservations.get(orderId);
  if (reservation?.status === "RESERVED") return decision([{ kind: "confirmed", reservation: { ...reservation, status: "CONFIRMED" } }]);
  if (reservation && reservation.status !== "LAPSED") return ignore(); // confirmed, used, released or cancelled already
  // The order committed but its reservation lapsed (or was never made): take the coupon again if it is still free.
  const retaken = retake(state, userCouponId, userId, orderId);
  const base = { orderId, userCouponId, userId, reservedAt: reservation?.reservedAt ?? context.now };
  if (!retaken) return decision([{ kind: "lapsed", reservation: { ...base, status: "LAPSED", discountAmount: 0 } }]);
  return decision([...retaken, { kind: "confirmed", reservation: { ...base, status: "CONFIRMED", discountAmount: event.discountAmount } }]);
}

/** OrderCompleted: the coupon held for the order is used. Completions without a coupon change nothing. */
function useForCompletedOrder(state: CouponSagaState, event: OrderCompleted): Decision<CouponSagaEffect> {
  const reservation = state.reservations.get(event.orderId);
  const userCouponId = reservation?.userCouponId;
  if (!reservation || !userCouponId || !(HOLDING.has(reservation.status) || reservation.status === "LAPSED")) return ignore();
  let retaken: Effects = [];
  if (reservation.status === "LAPSED") {
    const again = retake(state, userCouponId, reservation.userId, reservation.orderId);
    if (!again) return decision([{ kind: "lapsedCouponLost", orderId: reservation.orderId, userCouponId }]);
    retaken = again;
  }
  return decision([
    ...retaken,
    { kind: "couponUsed", userCouponId, orderId: reservation.orderId },
    { kind: "used", reservation: { ...reservation, status: "USED" } },
  ]);
}

/**
 * OrderFailed: a coupon held for the order is available again, once. If nothing was reserved
 * for the order yet, a tombstone makes sure nothing will be.
 */
function releaseForFailedOrder(state: CouponSagaState, event: OrderFailed, context: DecisionContext): Decision<CouponSagaEffect> {
  const reservation = state.reservations.get(event.orderId);
  if (!reservation) {
    const tombstone = {
      orderId: event.orderId,
      userCouponId: event.userCouponId,
      userId: event.userId,
      status: "CANCELLED" as const,
      discountAmount: 0,
      reservedAt: context.now,
    };
    return decision([{ kind: "cancelled", reservation: tombstone }]);
  }
  const released: CouponSagaEffect = { kind: "released", reservation: { ...reservation, status: "RELEASED" } };
  if (reservation.status === "LAPSED") return decision([released]); // its coupon went back when it lapsed
  if (!HOLDING.has(reservation.status)) return ignore(); // used, released or cancelled already
  return decision([...giveBack(state, reservation), released]);
}

/** The coupon goes back to AVAILABLE only if it is still held for this very order. */
function giveBack(state: CouponSagaState, reservation: Reservation): Effects {
  const coupon = reservation.userCouponId ? couponIn(state, reservation.userCouponId) : undefined;
  return coupon && isReservedFor(coupon, reservation.orderId) ? [{ kind: "couponGivenBack", userCouponId: coupon.id }] : [];
}

/**
 * Holds the coupon for an order again after its reservation lapsed: the effects (none when it is
 * already held for this order), or null when it is no longer free (or not the user's, or unknown).
 */
function retake(state: CouponSagaState, userCouponId: string, userId: string, orderId: string): Effects | null {
  const coupon = couponIn(state, userCouponId);
  if (!coupon || coupon.userId !== userId) return null;
  if (coupon.orderId === orderId && coupon.status !== "AVAILABLE") return [];
  if (coupon.status !== "AVAILABLE") return null;
  return [{ kind: "couponRetaken", userCouponId: coupon.id, orderId }];
}

/** User coupon ids are UUIDs, which an event may spell in upper case; the state holds them as stored (lower case). */
const couponIn = (state: CouponSagaState, userCouponId: string): CouponHolding | undefined => state.userCoupons.get(userCouponId.toLowerCase());

function evolve(state: CouponSagaState, effect: CouponSagaEffect): CouponSagaState {
  switch (effect.kind) {
    case "confirmed":
    case "lapsed":
    case "used":
    case "released":
    case "cancelled":
      return { ...state, reservations: new Map(state.reservations).set(effect.reservation.orderId, effect.reservation) };
    case "couponRetaken":
      return withCoupon(state, effect.userCouponId, "RESERVED", effect.orderId);
    case "couponUsed":
      return withCoupon(state, effect.userCouponId, "USED", effect.orderId);
    case "couponGivenBack":
      return withCoupon(state, effect.userCouponId, "AVAILABLE", null);
    case "lapsedCouponLost":
      return state;
  }
}

function withCoupon(state: CouponSagaState, userCouponId: string, status: CouponHolding["status"], orderId: string | null): CouponSagaState {
  const coupon = state.userCoupons.get(userCouponId);
  // Only a reservation holding a coupon that does not exist gets here: broken data, not a business outcome.
  if (!coupon) throw new Error(`user coupon ${userCouponId} not found`);
  return { ...state, userCoupons: new Map(state.userCoupons).set(userCouponId, { ...coupon, status, orderId }) };
}
