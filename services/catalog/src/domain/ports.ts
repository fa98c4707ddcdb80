import type { OrderLine, Page, Product, ProductSales } from "./model.ts";

/** What the product admin (and the sales counting of the ranking's tests) may do inside one database transaction. */
export interface CatalogTransaction {
  /** The product, locked until the transaction ends; null when it does not exist. */
  lockProduct(productId: string): Promise<Product | null>;
  /** Writes name, price and stock as given, with the version bumped; returns what was stored. */
  saveProduct(product: Product): Promise<Product>;
  /** Adds units sold on a Seoul day, one line per product (see linesByProduct); every product must exist. */
  addDailySales(day: string, lines: OrderLine[]): Promise<void>;
  /** An opaque token of this transaction that lets the ranking cache tell whether a rebuild already saw it. */
  commitMarker(): Promise<string>;
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
