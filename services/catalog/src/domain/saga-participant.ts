import type { BalanceDebited, DomainEvent, OrderCompleted, OrderFailed } from "@shop/events";
import { decision, ignore, type Decision, type DecisionContext, type SagaParticipant } from "@shop/saga";
import type { OrderLine, StockReservation } from "./model.ts";
import { invalidLinesReason, isPositiveQuantity, linesByProduct } from "./rules.ts";
import { seoulDayOf } from "./sales-window.ts";

/**
 * The inbox scope of each reaction. These names predate the saga kit and must not change: an
 * event claimed under them before an upgrade stays handled after it.
 */
export const ON_BALANCE_DEBITED = "catalog.reserve-stock";
export const ON_ORDER_FAILED = "catalog.release-stock";
export const ON_ORDER_COMPLETED = "catalog.complete-order";

/** What the catalog's decisions on one batch read, as loaded (and locked) for it. */
export interface StockState {
  /** The batch's orders' reservations, tombstones included, by order id. */
  readonly reservations: ReadonlyMap<string, StockReservation>;
  /** Units in stock of the products the batch names; a product the catalog does not know is absent. */
  readonly stock: ReadonlyMap<string, number>;
}

/**
 * What a decision changes. Each reservation effect carries the order's record as it is after the
 * effect, so evolve and save need no lookups.
 */
export type StockEffect =
  /** Every line was taken from stock; the record is RESERVED and holds the lines. */
  | { kind: "reserved"; reservation: StockReservation }
  /** Nothing was taken; the REJECTED record keeps a redelivery from trying again. */
  | { kind: "rejected"; reservation: StockReservation }
  /** The held lines went back to stock; the record is RELEASED. */
  | { kind: "released"; reservation: StockReservation }
  /** OrderFailed came first: the CANCELLED tombstone stops the late BalanceDebited. */
  | { kind: "cancelled"; reservation: StockReservation }
  /** The order completed: its stock stays taken (COMMITTED), a later OrderFailed gives nothing back. */
  | { kind: "committed"; reservation: StockReservation }
  /** Units sold on a Seoul day, products of the catalog only: what the top sellers count. */
  | { kind: "sold"; day: string; lines: OrderLine[] };

const record = (event: { orderId: string; userId: string }, status: StockReservation["status"], items: OrderLine[] = []): StockReservation => ({
  orderId: event.orderId,
  userId: event.userId,
  status,
  items,
});

/** The first line (in product-id order) the stock cannot cover, with why; null when all can be taken. */
function firstShortLine(stock: StockState["stock"], lines: OrderLine[]): { productId: string; detail: string } | null {
  for (const { productId, quantity } of lines) {
    const available = stock.get(productId);
    if (available === undefined) return { productId, detail: `product ${productId} does not exist` };
    if (available < quantity) return { productId, detail: `not enough stock of product ${productId}` };
  }
  return null;
}

/**
 * BalanceDebited: take the stock of every item at once or none, and answer StockReserved or
 * StockReservationFailed. An order with any record already (handled, or a tombstone because its
 * OrderFailed overtook this event) reserves nothing and answers nothing.
 */
function reserveForOrder(state: StockState, event: BalanceDebited, context: DecisionContext): Decision<StockEffect> {
  if (state.reservations.has(event.orderId)) return ignore();
  const { orderId, userId } = event;
  const envelope = () => ({ eventId: context.newId(), occurredAt: context.now.toISOString(), orderId, userId });
  const refuse = (productId: string | null, reason: string, detail: string) =>
    decision<StockEffect>(
      [{ kind: "rejected", reservation: record(event, "REJECTED") }],
      [{ type: "StockReservationFailed", key: orderId, payload: { ...envelope(), reason, detail, productId } } satisfies DomainEvent<"StockReservationFailed">],
    );
  const invalid = invalidLinesReason(event.items);
  if (invalid) return refuse(event.items[0]?.productId ?? null, "INVALID_ITEMS", invalid);
  const lines = linesByProduct(event.items);
  const short = firstShortLine(state.stock, lines);
  if (short) return refuse(short.productId, "OUT_OF_STOCK", short.detail);
  return decision<StockEffect>(
    [{ kind: "reserved", reservation: record(event, "RESERVED", lines) }],
    [{ type: "StockReserved", key: orderId, payload: { ...envelope(), amount: event.amount, items: event.items } } satisfies DomainEvent<"StockReserved">],
  );
}

/**
 * OrderFailed: give a reservation's stock back exactly once; with no reservation yet, leave a
 * tombstone so that a late BalanceDebited does not reserve. A completed, refused or already
 * released order changes nothing. Nothing is answered.
 */
function releaseForFailedOrder(state: StockState, event: OrderFailed): Decision<StockEffect> {
  const reservation = state.reservations.get(event.orderId);
  if (!reservation) return decision([{ kind: "cancelled", reservation: record(event, "CANCELLED") }]);
  if (reservation.status !== "RESERVED") return ignore();
  return decision([{ kind: "released", reservation: { ...reservation, status: "RELEASED" } }]);
}

/**
 * OrderCompleted: the reservation becomes COMMITTED (a COMMITTED record is written when there is
 * none, so a late OrderFailed cannot release), and the order's units count for its Seoul day. An
 * order already COMMITTED was counted when it was: nothing again.
 */
function completeOrder(state: StockState, event: OrderCompleted): Decision<StockEffect> {
  const reservation = state.reservations.get(event.orderId);
  if (reservation?.status === "COMMITTED") return ignore();
  const effects: StockEffect[] = [];
  if (!reservation) effects.push({ kind: "committed", reservation: record(event, "COMMITTED") });
  else if (reservation.status === "RESERVED") effects.push({ kind: "committed", reservation: { ...reservation, status: "COMMITTED" } });
  // Units of a product the catalog does not know are not ranked.
  const sold = linesByProduct(event.items.filter((i) => isPositiveQuantity(i.quantity))).filter((l) => state.stock.has(l.productId));
  if (sold.length) effects.push({ kind: "sold", day: seoulDayOf(new Date(event.completedAt)), lines: sold });
  return decision(effects);
}

/** Adds `sign` × each line's quantity to the stock. */
function movedStock(stock: StockState["stock"], lines: OrderLine[], sign: 1 | -1): StockState["stock"] {
  const moved = new Map(stock);
  for (const { productId, quantity } of lines) moved.set(productId, (moved.get(productId) ?? 0) + sign * quantity);
  return moved;
}

/** Folds an effect into the state, so that the batch's next event (maybe of the same product or order) sees it. */
function evolve(state: StockState, effect: StockEffect): StockState {
  if (effect.kind === "sold") return state; // no decision reads the sales
  const { reservation } = effect;
  const reservations = new Map(state.reservations).set(reservation.orderId, reservation);
  if (effect.kind === "reserved") return { reservations, stock: movedStock(state.stock, reservation.items, -1) };
  if (effect.kind === "released") return { reservations, stock: movedStock(state.stock, reservation.items, 1) };
  return { ...state, reservations };
}

/** The catalog's part of the order saga: reserve, release or keep stock, and count sales. */
export const stockParticipant: SagaParticipant<StockState, StockEffect> = {
  service: "catalog",
  reactions: {
    BalanceDebited: { consumer: ON_BALANCE_DEBITED, decide: reserveForOrder },
    OrderFailed: { consumer: ON_ORDER_FAILED, decide: releaseForFailedOrder },
    OrderCompleted: { consumer: ON_ORDER_COMPLETED, decide: completeOrder },
  },
  evolve,
};
