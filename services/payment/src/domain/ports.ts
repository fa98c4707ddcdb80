import type { Payment } from "./model.ts";

/** The payments as the HTTP reads see them; the saga's writes go through the participant's repository. */
export interface PaymentStore {
  /** Newest first. */
  paymentsOf(userId: string, options: { orderId?: string; limit: number }): Promise<Payment[]>;
}
