import type { OrderLine, Page, Product, ProductSales, StockReservation, TakeStockOutcome } from "./model.ts";

import type { DomainEvent } from "@shop/events";

export type { DomainEvent };

/** Everything a use case may do inside one database transaction. */
export interface CatalogTransaction {
  /** The product, locked until the transaction ends; null when it does not exist. */
  lockProduct(productId: string): Promise<Product | null>;
  /** Writes name, price and stock as given, with the version bumped; returns what was stored. */
  saveProduct(product: Product): Promise<Product>;
  /**
   * Takes every line's quantity from its product, all or nothing: on the first unknown or short
   * product nothing is taken. Lines must be in product-id order (see linesByProduct).
   */
  takeStock(lines: OrderLine[]): Promise<TakeStockOutcome>;
  /** Gives the quantities back (a release). */
  returnStock(lines: OrderLine[]): Promise<void>;
  /** Serializes work on one order (a transaction-scoped lock on that order only). */
  lockOrder(orderId: string): Promise<void>;
  findReservation(orderId: string): Promise<StockReservation | null>;
  /** Creates or updates the reservation; its items are written only when it is created. */
  saveReservation(reservation: StockReservation): Promise<void>;
  /** Adds units sold on a Seoul day; returns what was counted (lines of unknown products are not). */
  addDailySales(day: string, lines: OrderLine[]): Promise<OrderLine[]>;
  /** An opaque token of this transaction that lets the ranking cache tell whether a rebuild already saw it. */
  commitMarker(): Promise<string>;
  /** False when this consumer already handled the event. */
  claimEvent(eventId: string, consumer: string): Promise<boolean>;
  publish(events: DomainEvent[]): Promise<void>;
}

export interface CatalogStore {
  /** Products in id order (creation order), after `cursor` when given. */
  listProducts(limit: number, cursor?: string): Promise<Page<Product>>;
  findProduct(productId: string): Promise<Product | null>;
  /** The products that exist among `productIds`, in no particular order. */
  findProducts(productIds: string[]): Promise<Product[]>;
  createProduct(product: Product): Promise<Product>;
  /** Inserts `products` only if the catalog has none, atomically (concurrent callers insert once); returns how many. */
  insertIfCatalogEmpty(products: Product[]): Promise<number>;
  transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T>;
}

/**
 * Short-lived copies of products for the read path. Best effort: a failure reads as a miss and a
 * write that fails is skipped, since PostgreSQL stays the source of truth.
 */
export interface ProductCache {
  get(productId: string): Promise<Product | null>;
  getMany(productIds: string[]): Promise<Map<string, Product>>;
  /** Stores the product unless a newer version of it is cached already. */
  offer(product: Product): Promise<void>;
}

/** Units sold per product and Seoul day, as served to the top-sellers read. */
export interface SalesRanking {
  /**
   * The best sellers over `days`: most units first, ties by product id ascending, at most `limit`.
   */
  top(days: string[], limit: number): Promise<ProductSales[]>;
  /** Counts sales that were just committed (best effort; a rebuild from PostgreSQL fixes a miss). */
  record(day: string, sales: OrderLine[], commitMarker: string): Promise<void>;
  /** Drops what is cached for these days, so the next read rebuilds them from PostgreSQL. */
  forget(days: string[]): Promise<void>;
}

export type Clock = () => Date;
