import type { EventHandlers } from "@shop/kafka";
import type { StockService } from "../domain/stock-service.ts";

/** Saga entry points: the stock use cases, fed by Kafka. */
export function catalogEventHandlers(stock: StockService): EventHandlers {
  return {
    BalanceDebited: (event) => stock.reserveForOrder(event),
    OrderFailed: (event) => stock.releaseForFailedOrder(event),
    OrderCompleted: (event) => stock.completeOrder(event),
  };
}
