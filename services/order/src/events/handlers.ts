import type { EventHandlers } from "@shop/kafka";
import type { OrderService } from "../domain/order-service.ts";

/** Saga entry points: every participant's outcome moves (or, late, only annotates) the order. */
export function orderEventHandlers(orders: OrderService): EventHandlers {
  return {
    BalanceDebited: (event) => orders.recordBalanceDebited(event),
    BalanceDebitFailed: (event) => orders.recordBalanceDebitFailed(event),
    StockReserved: (event) => orders.recordStockReserved(event),
    StockReservationFailed: (event) => orders.recordStockReservationFailed(event),
    PaymentCompleted: (event) => orders.recordPaymentCompleted(event),
    PaymentFailed: (event) => orders.recordPaymentFailed(event),
  };
}
