// Pure rules: discounts, the issuing window, usability and derived statuses.
import type { DiscountTerms, UserCoupon } from "../src/domain/model.ts";
import { campaignRuleViolations, computeDiscount, displayStatus, issueWindowState, unusableReason } from "../src/domain/rules.ts";

const percent = (discountValue: number, maxDiscountAmount: number | null = null, minOrderAmount = 0): DiscountTerms => ({
  discountType: "PERCENT",
  discountValue,
  maxDiscountAmount,
  minOrderAmount,
});
const fixed = (discountValue: number, maxDiscountAmount: number | null = null, minOrderAmount = 0): DiscountTerms => ({
  discountType: "FIXED",
  discountValue,
  maxDiscountAmount,
  minOrderAmount,
});

describe("computeDiscount", () => {
  test.each([
    ["10% of 34,567 rounds down", percent(10), 34_567, 3456],
    ["1% of 99 rounds down to 0", percent(1), 99, 0],
    ["100% is the whole order", percent(100), 12_345, 12_345],
    ["a cap limits a percent discount", percent(50, 5000), 100_000, 5000],
    ["a cap above the discount changes nothing", percent(10, 5000), 20_000, 2000],
    ["33% of 10,000,000,000 stays an exact integer", percent(33), 10_000_000_000, 3_300_000_000],
    ["7% of 9,999,999,999", percent(7), 9_999_999_999, 699_999_999],
    ["a fixed discount", fixed(3000), 30_000, 3000],
    ["a fixed discount never exceeds the order", fixed(3000), 1200, 1200],
    ["a fixed discount with a lower cap", fixed(3000, 2500), 30_000, 2500],
    ["the minimum order does not change the price", fixed(3000, null, 50_000), 30_000, 3000],
  ])("%s", (_label, terms, orderAmount, expected) => {
    const discount = computeDiscount(terms, orderAmount);
    expect(discount).toBe(expected);
    expect(Number.isInteger(discount)).toBe(true);
  });

  test("the discount is an integer between 0 and the order amount for every percent and many amounts", () => {
    for (let value = 1; value <= 100; value++) {
      for (const amount of [1, 7, 99, 100, 101, 12_345, 999_999, 10_000_000_000]) {
        const discount = computeDiscount(percent(value), amount);
        expect(Number.isInteger(discount)).toBe(true);
        expect(discount).toBeGreaterThanOrEqual(0);
        expect(discount).toBeLessThanOrEqual(amount);
        expect(discount).toBe(Math.floor((amount * value) / 100));
      }
    }
  });
});

describe("issueWindowState", () => {
  const starts = new Date("2030-01-01T00:00:00Z");
  const ends = new Date("2030-01-02T00:00:00Z");
  test.each([
    ["before the start", { issueStartsAt: starts, issueEndsAt: ends }, new Date(starts.getTime() - 1), "NOT_STARTED"],
    ["at the start (inclusive)", { issueStartsAt: starts, issueEndsAt: ends }, starts, "OPEN"],
    ["just before the end", { issueStartsAt: starts, issueEndsAt: ends }, new Date(ends.getTime() - 1), "OPEN"],
    ["at the end (exclusive)", { issueStartsAt: starts, issueEndsAt: ends }, ends, "ENDED"],
    ["open-ended, long after the start", { issueStartsAt: starts, issueEndsAt: null }, new Date("2099-01-01T00:00:00Z"), "OPEN"],
  ])("%s", (_label, window, now, expected) => {
    expect(issueWindowState(window, now)).toBe(expected);
  });
});

describe("unusableReason and displayStatus", () => {
  const now = new Date("2030-06-01T00:00:00Z");
  const coupon = (overrides: Partial<UserCoupon> = {}): UserCoupon => ({
    id: "uc-1",
    couponId: "c-1",
    userId: "alice",
    status: "AVAILABLE",
    orderId: null,
    issuedAt: new Date("2030-05-30T00:00:00Z"),
    expiresAt: new Date("2030-06-06T00:00:00Z"),
    ...overrides,
  });

  test.each([
    ["usable", coupon(), "alice", 30_000, null],
    ["another user's", coupon(), "bob", 30_000, "NOT_OWNER"],
    ["used", coupon({ status: "USED" }), "alice", 30_000, "ALREADY_USED"],
    ["reserved", coupon({ status: "RESERVED" }), "alice", 30_000, "ALREADY_RESERVED"],
    ["expired", coupon({ expiresAt: now }), "alice", 30_000, "EXPIRED"],
    ["below the minimum order", coupon(), "alice", 19_999, "BELOW_MINIMUM_ORDER"],
    ["exactly the minimum order", coupon(), "alice", 20_000, null],
  ])("%s", (_label, c, userId, orderAmount, expected) => {
    expect(unusableReason(c, fixed(3000, null, 20_000), userId, orderAmount, now)).toBe(expected);
  });

  test("EXPIRED is derived only for AVAILABLE coupons past their expiry", () => {
    expect(displayStatus(coupon(), now)).toBe("AVAILABLE");
    expect(displayStatus(coupon({ expiresAt: now }), now)).toBe("EXPIRED");
    expect(displayStatus(coupon({ expiresAt: now, status: "USED" }), now)).toBe("USED");
    expect(displayStatus(coupon({ expiresAt: now, status: "RESERVED" }), now)).toBe("RESERVED");
  });
});

describe("campaignRuleViolations", () => {
  const now = new Date("2030-01-01T00:00:00Z");
  test.each([
    ["a valid percent campaign", { discountType: "PERCENT" as const, discountValue: 100 }, []],
    ["a percent over 100", { discountType: "PERCENT" as const, discountValue: 101 }, ["discountValue"]],
    ["a large fixed value", { discountType: "FIXED" as const, discountValue: 50_000 }, []],
    [
      "an end before the start",
      { discountType: "FIXED" as const, discountValue: 1, issueStartsAt: new Date("2030-02-01T00:00:00Z"), issueEndsAt: new Date("2030-01-15T00:00:00Z") },
      ["issueEndsAt"],
    ],
    [
      "an end equal to the start",
      { discountType: "FIXED" as const, discountValue: 1, issueStartsAt: new Date("2030-02-01T00:00:00Z"), issueEndsAt: new Date("2030-02-01T00:00:00Z") },
      ["issueEndsAt"],
    ],
    [
      "an end in the past",
      { discountType: "FIXED" as const, discountValue: 1, issueStartsAt: new Date("2029-01-01T00:00:00Z"), issueEndsAt: new Date("2029-06-01T00:00:00Z") },
      ["issueEndsAt"],
    ],
    ["an end after a default (now) start", { discountType: "FIXED" as const, discountValue: 1, issueEndsAt: new Date("2030-01-01T00:00:01Z") }, []],
    ["a start in the past is fine", { discountType: "FIXED" as const, discountValue: 1, issueStartsAt: new Date("2029-01-01T00:00:00Z") }, []],
  ])("%s", (_label, input, fields) => {
    expect(campaignRuleViolations(input, now).map((i) => i.field)).toEqual(fields);
  });
});
