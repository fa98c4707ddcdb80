import type { EventHandlers } from "@shop/kafka";
import type { PaymentService } from "../domain/payment-service.ts";

/** Saga entry points: take the payment once stock is reserved; cancel it when the order fails. */
export function paymentEventHandlers(payments: PaymentService): EventHandlers {
  return {
    StockReserved: (event) => payments.takePayment(event),
    OrderFailed: (event) => payments.cancelForFailedOrder(event),
  };
}
