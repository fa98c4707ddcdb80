export interface Product {
  id: string;
  name: string;
  /** KRW. */
  price: number;
  stock: number;
  /** Bumped by every change; lets a cache refuse to replace newer data with older. */
  version: number;
}

export interface NewProduct {
  name: string;
  price: number;
  stock: number;
}

export interface ProductChange {
  name?: string;
  price?: number;
  /** Added to the stock (negative takes away); the result may not go below 0. */
  stockDelta?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One product line of an order, as the saga events carry it. */
export interface OrderLine {
  productId: string;
  quantity: number;
}

/** What the catalog did for one order; makes each saga step happen at most once in any event order. */
export type ReservationStatus = "RESERVED" | "REJECTED" | "RELEASED" | "COMMITTED" | "CANCELLED";

export interface StockReservation {
  orderId: string;
  userId: string;
  status: ReservationStatus;
  /** Quantities held per product (RESERVED/RELEASED/COMMITTED only), sorted by product id. */
  items: OrderLine[];
}

/** Units sold of one product on one sales day. */
export interface ProductSales {
  productId: string;
  quantity: number;
}

export interface TopSeller {
  rank: number;
  productId: string;
  name: string;
  price: number;
  soldQuantity: number;
}

export interface TopSellers {
  /** First instant of the window (inclusive). */
  from: Date;
  /** End of the window (exclusive): the start of tomorrow in Asia/Seoul. */
  to: Date;
  items: TopSeller[];
}

export const MAX_NAME_LENGTH = 200;
/** Largest price in KRW (1억); larger amounts are rejected as invalid input. */
export const MAX_PRICE = 100_000_000;
/** Most units one product may have in stock; also bounds one stock change. */
export const MAX_STOCK = 1_000_000;
/** Most products one quote may ask for. */
export const MAX_QUOTE_PRODUCTS = 50;
export const TOP_SELLERS_LIMIT = 5;
