import { MAX_PAYMENTS_LISTED, type Payment } from "./model.ts";
import type { PaymentStore } from "./ports.ts";

/** The HTTP side of payments; the saga side is the participant (saga-participant.ts). */
export class PaymentService {
  constructor(private readonly store: PaymentStore) {}

  paymentsOf(userId: string, orderId?: string): Promise<Payment[]> {
    return this.store.paymentsOf(userId, { orderId, limit: MAX_PAYMENTS_LISTED });
  }
}
