import type { EventHandlers } from "@shop/kafka";
import type { ReservationService } from "../domain/reservation-service.ts";

/** Saga entry points: the reservation use cases, fed by Kafka. The coupon service publishes nothing. */
export function couponEventHandlers(reservations: ReservationService): EventHandlers {
  return {
    OrderPlaced: (event) => reservations.confirmForPlacedOrder(event),
    OrderCompleted: (event) => reservations.useForCompletedOrder(event),
    OrderFailed: (event) => reservations.releaseForFailedOrder(event),
  };
}
