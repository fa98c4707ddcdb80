import { randomBytes } from "node:crypto";
import type { OrderLine, ProductSales } from "./model.ts";

/**
 * `p_` + creation time in ms (9 base36 characters, fixed width until the year 5138) + 12 random
 * hex characters: ids sort in creation order, so the listing's id cursor pages through products
 * oldest first, and new rows land at the end of the primary-key index.
 */
export function newProductId(now: Date): string {
  return `p_${now.getTime().toString(36).padStart(9, "0")}${randomBytes(6).toString("hex")}`;
}

/** What a product id path or cursor may look like (ids this service issues match it). */
export const PRODUCT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * One line per product with the quantities summed, in product-id order: the order in which every
 * transaction touches product rows, so two orders sharing products can never deadlock.
 */
export function linesByProduct(items: readonly OrderLine[]): OrderLine[] {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of items) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
  return [...totals]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/** A quantity the catalog can take, give back or count: a positive integer. */
export const isPositiveQuantity = (quantity: number): boolean => Number.isSafeInteger(quantity) && quantity > 0;

/** An order the catalog can act on: at least one line, every quantity a positive integer. */
export function invalidLinesReason(items: readonly OrderLine[]): string | null {
  if (items.length === 0) return "the order has no items";
  const bad = items.find((i) => !isPositiveQuantity(i.quantity));
  return bad ? `quantity ${bad.quantity} of product ${bad.productId} is not a positive integer` : null;
}

/** The top-sellers order: most units first, ties by product id ascending. */
export const bySalesRank = (a: ProductSales, b: ProductSales): number =>
  b.quantity - a.quantity || (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0);
