// Pure rules of campaigns and coupons: no I/O, no clock of their own (the caller passes `now`).
import type { FieldIssue } from "@shop/errors";
import type { DiscountTerms, DiscountType, IssueWindow, UserCoupon, UserCouponDisplayStatus } from "./model.ts";

export type WindowState = "NOT_STARTED" | "OPEN" | "ENDED";

/** The window is half-open: open from issueStartsAt (inclusive) until issueEndsAt (exclusive). */
export function issueWindowState(window: IssueWindow, now: Date): WindowState {
  if (now.getTime() < window.issueStartsAt.getTime()) return "NOT_STARTED";
  if (window.issueEndsAt && now.getTime() >= window.issueEndsAt.getTime()) return "ENDED";
  return "OPEN";
}

/** Integer percent of an integer KRW amount, rounded down, without floating-point surprises. */
function percentOf(amount: number, percent: number): number {
  const product = amount * percent;
  return (product - (product % 100)) / 100;
}

/**
 * The discount on an order of `orderAmount` KRW: FIXED gives its value, PERCENT rounds down;
 * both are capped by maxDiscountAmount (when set) and never exceed the order amount.
 * The minimum order amount is a usability rule (see `unusableReason`), not part of the price.
 */
export function computeDiscount(terms: DiscountTerms, orderAmount: number): number {
  const raw = terms.discountType === "FIXED" ? terms.discountValue : percentOf(orderAmount, terms.discountValue);
  const capped = terms.maxDiscountAmount === null ? raw : Math.min(raw, terms.maxDiscountAmount);
  return Math.max(0, Math.min(capped, orderAmount));
}

export type UnusableReason = "NOT_OWNER" | "ALREADY_USED" | "ALREADY_RESERVED" | "EXPIRED" | "BELOW_MINIMUM_ORDER";

/** Why `userId` cannot reserve this coupon for an order of `orderAmount` KRW now; null when it can. */
export function unusableReason(coupon: UserCoupon, terms: DiscountTerms, userId: string, orderAmount: number, now: Date): UnusableReason | null {
  if (coupon.userId !== userId) return "NOT_OWNER";
  if (coupon.status === "USED") return "ALREADY_USED";
  if (coupon.status === "RESERVED") return "ALREADY_RESERVED";
  if (coupon.expiresAt.getTime() <= now.getTime()) return "EXPIRED";
  if (orderAmount < terms.minOrderAmount) return "BELOW_MINIMUM_ORDER";
  return null;
}

/** Still held for this very order: only then may the order give the coupon back (another order may hold it by now). */
export function isReservedFor(coupon: Pick<UserCoupon, "status" | "orderId">, orderId: string): boolean {
  return coupon.status === "RESERVED" && coupon.orderId === orderId;
}

export function displayStatus(coupon: Pick<UserCoupon, "status" | "expiresAt">, now: Date): UserCouponDisplayStatus {
  return coupon.status === "AVAILABLE" && coupon.expiresAt.getTime() <= now.getTime() ? "EXPIRED" : coupon.status;
}

export interface CampaignRuleInput {
  discountType: DiscountType;
  discountValue: number;
  issueStartsAt?: Date;
  issueEndsAt?: Date | null;
}

/** Rules across fields that a per-field schema cannot say; empty when the campaign is acceptable. */
export function campaignRuleViolations(input: CampaignRuleInput, now: Date): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (input.discountType === "PERCENT" && (input.discountValue < 1 || input.discountValue > 100)) {
    issues.push({ field: "discountValue", message: "a PERCENT discount must be between 1 and 100" });
  }
  const starts = input.issueStartsAt ?? now;
  if (input.issueEndsAt) {
    if (input.issueEndsAt.getTime() <= starts.getTime()) issues.push({ field: "issueEndsAt", message: "must be after issueStartsAt" });
    else if (input.issueEndsAt.getTime() <= now.getTime()) issues.push({ field: "issueEndsAt", message: "must be in the future" });
  }
  return issues;
}
