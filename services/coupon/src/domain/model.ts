export type DiscountType = "FIXED" | "PERCENT";

/** What a campaign gives: the part of a campaign that prices an order. */
export interface DiscountTerms {
  discountType: DiscountType;
  /** KRW for FIXED, percent (1..100) for PERCENT. */
  discountValue: number;
  /** Upper bound of the discount in KRW; null = no cap besides the order amount. */
  maxDiscountAmount: number | null;
  /** The order amount (KRW) must be at least this; 0 = no minimum. */
  minOrderAmount: number;
}

/** When issuing is open: [issueStartsAt, issueEndsAt), or open-ended when issueEndsAt is null. */
export interface IssueWindow {
  issueStartsAt: Date;
  issueEndsAt: Date | null;
}

export interface NewCampaign extends DiscountTerms {
  name: string;
  totalQuantity: number;
  /** Defaults to the moment of creation. */
  issueStartsAt?: Date;
  issueEndsAt?: Date | null;
  /** An issued coupon can be used for this many days after it was issued. */
  validForDays: number;
}

export interface Campaign extends DiscountTerms, IssueWindow {
  id: string;
  name: string;
  totalQuantity: number;
  /** Committed user coupons (PostgreSQL), not admissions in flight. */
  issuedQuantity: number;
  validForDays: number;
  createdAt: Date;
}

/** What the admission gate needs to decide alone, without PostgreSQL. */
export interface AdmissionTerms extends IssueWindow {
  couponId: string;
  totalQuantity: number;
}

export type UserCouponStatus = "AVAILABLE" | "RESERVED" | "USED";
/** As clients see it: EXPIRED is derived for an AVAILABLE coupon past its expiry. */
export type UserCouponDisplayStatus = UserCouponStatus | "EXPIRED";

export interface IssuedCoupon {
  userCouponId: string;
  couponId: string;
  userId: string;
  status: UserCouponStatus;
  expiresAt: Date;
}

export interface UserCoupon {
  id: string;
  couponId: string;
  userId: string;
  status: UserCouponStatus;
  orderId: string | null;
  issuedAt: Date;
  expiresAt: Date;
}

/** A user coupon with the campaign it belongs to (its name and terms). */
export interface UserCouponWithTerms extends UserCoupon {
  campaign: DiscountTerms & { name: string };
}

/**
 * What the service did for one order: RESERVED → CONFIRMED (OrderPlaced) → USED (OrderCompleted),
 * or → RELEASED (OrderFailed), or RESERVED → LAPSED (no order within the TTL). CANCELLED is the
 * tombstone of an order that failed before anything was reserved for it.
 */
export type ReservationStatus = "RESERVED" | "CONFIRMED" | "USED" | "RELEASED" | "LAPSED" | "CANCELLED";

export interface Reservation {
  orderId: string;
  userCouponId: string | null;
  userId: string;
  status: ReservationStatus;
  discountAmount: number;
  reservedAt: Date;
}

export interface ReservationReceipt {
  userCouponId: string;
  couponId: string;
  orderId: string;
  discountAmount: number;
  status: "RESERVED";
}

/** Input limits: anything beyond is invalid input, not a business outcome. */
export const LIMITS = {
  nameLength: 100,
  /** KRW; also bounds maxDiscountAmount and minOrderAmount. */
  maxAmount: 100_000_000,
  maxTotalQuantity: 1_000_000,
  maxValidForDays: 3650,
  /** KRW of one order, as the order service reports it. */
  maxOrderAmount: 10_000_000_000,
} as const;
