import { judgePayment } from "../src/domain/payment-rules.ts";

const LIMIT = 10_000_000;

test.each([0, 1, 9_999_999, LIMIT])("%i KRW is approved under a %i KRW limit", (amount) => {
  expect(judgePayment(amount, LIMIT)).toEqual({ approved: true });
});

test.each([
  [LIMIT + 1, /exceeds the provider's per-transaction limit of 10000000 KRW/],
  [Number.MAX_SAFE_INTEGER, /exceeds/],
  [-1, /not a payable amount/],
  [1.5, /not a payable amount/],
  [Number.NaN, /not a payable amount/],
])("%p KRW is declined", (amount, reason) => {
  const verdict = judgePayment(amount, LIMIT);
  expect(verdict.approved).toBe(false);
  if (!verdict.approved) expect(verdict.detail).toMatch(reason);
});

test("the limit is a parameter (PAYMENT_MAX_AMOUNT)", () => {
  expect(judgePayment(5_001, 5_000).approved).toBe(false);
  expect(judgePayment(5_000, 5_000).approved).toBe(true);
});
