import type { EventHandlers } from "@shop/kafka";
import type { WalletService } from "../domain/wallet-service.ts";

/** Saga entry points: the same use cases as the routes, fed by Kafka. */
export function walletEventHandlers(wallet: WalletService): EventHandlers {
  return {
    OrderPlaced: (event) => wallet.debitForOrder(event),
    OrderFailed: (event) => wallet.refundForFailedOrder(event),
  };
}
