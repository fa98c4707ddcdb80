export type PaymentVerdict = { approved: true } | { approved: false; detail: string };

/**
 * The payment provider's rules for one transaction: a whole, non-negative number of KRW no larger
 * than its per-transaction limit (`PAYMENT_MAX_AMOUNT`, 10 000 000 KRW unless configured). A
 * declined payment fails the order with PAYMENT_FAILED; this is also how a demo or a test makes a
 * payment fail on purpose (order more than the limit).
 */
export function judgePayment(amount: number, perTransactionLimit: number): PaymentVerdict {
  if (!Number.isSafeInteger(amount) || amount < 0) return { approved: false, detail: `not a payable amount: ${amount}` };
  if (amount > perTransactionLimit)
    return { approved: false, detail: `${amount} KRW exceeds the provider's per-transaction limit of ${perTransactionLimit} KRW` };
  return { approved: true };
}
