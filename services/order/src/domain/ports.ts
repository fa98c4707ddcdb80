import type { Order, Page } from "./model.ts";
import type { QuotedProduct } from "./pricing.ts";
import type { OrderSagaEffect, OrderSagaState } from "./saga-participant.ts";

import type { DomainEvent } from "@shop/events";
import type { IdempotencyKeyState } from "@shop/idempotency";

export type { DomainEvent };

/**
 * A placement's Idempotency-Key, as the store found it on one attempt to take it. The claim
 * commits on its own before the placement calls the catalog and the coupon service, so a
 * concurrent request with the key sees it in progress. Every state carries the order id bound to
 * the key; a taken-over claim keeps its order id (an earlier attempt may hold a coupon reservation for it).
 */
export type PlacementKeyState = IdempotencyKeyState<PlacementAnswer> & { orderId: string };

export type NewOrder = Omit<Order, "updatedAt">;

/** Everything a use case may do inside one database transaction. */
export interface OrderTransaction {
  /** PENDING orders past their deadline that no other transaction holds (those are skipped, not waited for). */
  lockOverduePendingOrders(now: Date, limit: number): Promise<Order[]>;
  /** Writes saga decisions (timeline steps, status changes) as the saga's consumer does; wakes whoever waits for a changed order (on commit). */
  saveSagaEffects(effects: OrderSagaEffect[], state: OrderSagaState): Promise<void>;
  publish(events: DomainEvent[]): Promise<void>;
}

/** What a placement answered, as its Idempotency-Key keeps it for replays (placement.ts reads `statusCode` as the answer's kind). */
export interface PlacementAnswer {
  statusCode: number;
  body: unknown;
}

/** A placement's answer with the key to store it under. */
export interface StoredAnswer extends PlacementAnswer {
  idempotencyKey: string;
}

export interface OrderStore {
  /**
   * Places the order atomically: the order, its event in the outbox, and the answer stored under
   * the user's Idempotency-Key claim (which must be held). Returns the order as written.
   */
  placeOrder(order: NewOrder, event: DomainEvent, answer: StoredAnswer): Promise<Order>;
  findOrder(orderId: string): Promise<Order | null>;
  listOrders(userId: string, limit: number, cursor?: string): Promise<Page<Order>>;
  /**
   * Binds (userId, key) to this request, or reports the request it is bound to. An unanswered
   * claim with the same request hash older than `takeOverAfterMs` (its request crashed or gave
   * up) is taken over, keeping its order id.
   */
  claimIdempotencyKey(userId: string, key: string, requestHash: string, newOrderId: string, takeOverAfterMs: number): Promise<PlacementKeyState>;
  /** Nothing happened under the claim: the key is free again. */
  releaseIdempotencyKey(userId: string, key: string): Promise<void>;
  /** Something may have happened under the claim (a coupon reservation): the next request with the key takes it over at once, with the same order id. */
  abandonIdempotencyKey(userId: string, key: string): Promise<void>;
  transaction<T>(work: (tx: OrderTransaction) => Promise<T>): Promise<T>;
  /** How many orders are PENDING, and the deadline of the `headPosition`-th oldest of them (null if fewer). */
  pendingBacklog(headPosition: number): Promise<{ pending: number; headDeadlineAt: Date | null }>;
}

/** The catalog's price list. Throws UnknownProductsError or ServiceUnavailableError. */
export interface ProductCatalog {
  quote(productIds: string[]): Promise<QuotedProduct[]>;
}

export interface CouponReservationRequest {
  userCouponId: string;
  userId: string;
  orderId: string;
  /** The subtotal the discount applies to. */
  orderAmount: number;
}

export type CouponReservation =
  | { outcome: "RESERVED"; couponId: string; discountAmount: number }
  /** The coupon cannot be used for this order (not the user's, used, expired, minimum not met…). */
  | { outcome: "REFUSED"; code: string; detail: string };

/** Reserves a user coupon for one order; idempotent per order id. Throws ServiceUnavailableError. */
export interface CouponReservations {
  reserve(request: CouponReservationRequest): Promise<CouponReservation>;
}

/** Wakes a waiter when an order's state changed (in any instance). */
export interface OrderChangeFeed {
  watch(orderId: string): OrderWatch;
}

export interface OrderWatch {
  /** Resolves on the next change since the previous call (or since `watch`), or after `timeoutMs`. */
  changed(timeoutMs: number): Promise<void>;
  close(): void;
}

/** The current time, given to the domain by main.ts (tests pin it). */
export type Clock = () => Date;
