export type LedgerEntryType = "CHARGE" | "PAYMENT" | "REFUND";

export interface LedgerEntry {
  id: string;
  userId: string;
  type: LedgerEntryType;
  /** Signed KRW: payments are negative. */
  amount: number;
  balanceAfter: number;
  orderId: string | null;
  createdAt: Date;
}

/** What the wallet did for one order; makes each saga step happen at most once in any event order. */
export type OrderDebitStatus = "DEBITED" | "REJECTED" | "REFUNDED" | "CANCELLED";

export interface OrderDebit {
  orderId: string;
  userId: string;
  amount: number;
  status: OrderDebitStatus;
}

export interface ChargeReceipt {
  chargeId: string;
  userId: string;
  amount: number;
  balance: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Largest single charge, in KRW. Larger amounts are rejected as invalid input. */
export const MAX_CHARGE_AMOUNT = 10_000_000;
