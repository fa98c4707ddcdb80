import { DomainError } from "@shop/errors";
import type { UnusableReason } from "./rules.ts";

export class CouponSoldOutError extends DomainError {
  constructor(couponId: string) {
    super("COUPON_SOLD_OUT", "every coupon of this campaign has been issued", { couponId });
  }
}

export class CouponAlreadyIssuedError extends DomainError {
  constructor(couponId: string) {
    super("COUPON_ALREADY_ISSUED", "this user already has a coupon of this campaign", { couponId });
  }
}

export class CouponNotActiveError extends DomainError {
  constructor(couponId: string, why: "NOT_STARTED" | "ENDED") {
    super("COUPON_NOT_ACTIVE", why === "NOT_STARTED" ? "issuing has not started yet" : "issuing has ended", { couponId, reason: why });
  }
}

export class CouponNotUsableError extends DomainError {
  constructor(userCouponId: string, reason: UnusableReason | "ORDER_FAILED" | "ORDER_HAS_OTHER_COUPON" | "ORDER_COMPLETED") {
    super("COUPON_NOT_USABLE", `the coupon cannot be used for this order (${reason})`, { userCouponId, reason });
  }
}

/** An admitted request whose issue could not be made durable; its admission was undone, a retry is safe. */
export class IssueUnavailableError extends DomainError {
  constructor(couponId: string, why: string) {
    super("COUPON_ISSUE_UNAVAILABLE", `the coupon could not be issued right now (${why}); retry`, { couponId });
  }
}
