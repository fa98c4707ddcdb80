import { randomUUID } from "node:crypto";
import type { BalanceDebited, OrderCompleted, OrderFailed } from "@shop/events";
import type { OrderLine } from "./model.ts";
import type { CatalogStore, SalesRanking } from "./ports.ts";
import { invalidLinesReason, linesByProduct } from "./rules.ts";
import { seoulDayOf } from "./sales-window.ts";

/** Saga consumers; each name is the inbox scope of one reaction. */
const ON_BALANCE_DEBITED = "catalog.reserve-stock";
const ON_ORDER_FAILED = "catalog.release-stock";
const ON_ORDER_COMPLETED = "catalog.complete-order";

const now = () => new Date().toISOString();

/** The catalog's part of the order saga: reserve, release or keep stock, and count sales. */
export class StockService {
  constructor(
    private readonly store: CatalogStore,
    private readonly ranking: SalesRanking,
  ) {}

  /**
   * BalanceDebited: take the stock of every item at once or none, and answer StockReserved or
   * StockReservationFailed. An order already failed (its OrderFailed overtook this event) or
   * already handled reserves nothing and emits nothing.
   */
  reserveForOrder(event: BalanceDebited): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_BALANCE_DEBITED))) return;
      await tx.lockOrder(event.orderId);
      if (await tx.findReservation(event.orderId)) return;
      const base = { orderId: event.orderId, userId: event.userId };
      const fail = async (productId: string | null, reason: string, detail: string) => {
        await tx.saveReservation({ ...base, status: "REJECTED", items: [] });
        await tx.publish([{ type: "StockReservationFailed", key: event.orderId, payload: { eventId: randomUUID(), occurredAt: now(), ...base, reason, detail, productId } }]);
      };
      const invalid = invalidLinesReason(event.items);
      if (invalid) return fail(event.items[0]?.productId ?? null, "INVALID_ITEMS", invalid);
      const lines = linesByProduct(event.items);
      const outcome = await tx.takeStock(lines);
      if (!outcome.taken) {
        const detail = outcome.reason === "UNKNOWN_PRODUCT" ? `product ${outcome.productId} does not exist` : `not enough stock of product ${outcome.productId}`;
        return fail(outcome.productId, "OUT_OF_STOCK", detail);
      }
      await tx.saveReservation({ ...base, status: "RESERVED", items: lines });
      await tx.publish([
        { type: "StockReserved", key: event.orderId, payload: { eventId: randomUUID(), occurredAt: now(), ...base, amount: event.amount, items: event.items } },
      ]);
    });
  }

  /**
   * OrderFailed: give a reservation's stock back exactly once; if the reservation has not happened
   * yet, leave a tombstone so that a late BalanceDebited does not reserve. A completed order keeps
   * its stock.
   */
  releaseForFailedOrder(event: OrderFailed): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_FAILED))) return;
      await tx.lockOrder(event.orderId);
      const reservation = await tx.findReservation(event.orderId);
      if (!reservation) {
        await tx.saveReservation({ orderId: event.orderId, userId: event.userId, status: "CANCELLED", items: [] });
        return;
      }
      if (reservation.status !== "RESERVED") return;
      await tx.returnStock(reservation.items);
      await tx.saveReservation({ ...reservation, status: "RELEASED" });
    });
  }

  /**
   * OrderCompleted: the reservation becomes COMMITTED (a later OrderFailed no longer releases it)
   * and the order's units are added to its Seoul day's sales, in the same transaction as the
   * inbox claim, so a redelivery counts nothing. The ranking cache is told after the commit.
   */
  async completeOrder(event: OrderCompleted): Promise<void> {
    const day = seoulDayOf(new Date(event.completedAt));
    const counted = await this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_COMPLETED))) return null;
      await tx.lockOrder(event.orderId);
      const reservation = await tx.findReservation(event.orderId);
      if (!reservation) await tx.saveReservation({ orderId: event.orderId, userId: event.userId, status: "COMMITTED", items: [] });
      else if (reservation.status === "RESERVED") await tx.saveReservation({ ...reservation, status: "COMMITTED" });
      const lines: OrderLine[] = linesByProduct(event.items.filter((i) => Number.isSafeInteger(i.quantity) && i.quantity > 0));
      const sales = lines.length ? await tx.addDailySales(day, lines) : [];
      return sales.length ? { sales, marker: await tx.commitMarker() } : null;
    });
    if (counted) await this.ranking.record(day, counted.sales, counted.marker);
  }
}
