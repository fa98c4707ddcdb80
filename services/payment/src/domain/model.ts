/** COMPLETED: taken. FAILED: declined, nothing taken. CANCELLED: taken, then the order failed (the wallet refunds). */
export type PaymentStatus = "COMPLETED" | "FAILED" | "CANCELLED";

export interface Payment {
  paymentId: string;
  orderId: string;
  userId: string;
  /** KRW. */
  amount: number;
  status: PaymentStatus;
  /** Why a FAILED payment was declined. */
  failureReason: string | null;
  createdAt: Date;
}

/** The most payments one listing returns (newest first). */
export const MAX_PAYMENTS_LISTED = 100;
