import { ValidationError } from "@shop/errors";
import { UnknownProductsError } from "./errors.ts";
import { MAX_ORDER_SUBTOTAL, type OrderItem } from "./model.ts";

export interface OrderLine {
  productId: string;
  quantity: number;
}

/** What the catalog says about a product at placement. */
export interface QuotedProduct {
  id: string;
  name: string;
  price: number;
  stock: number;
}

export interface OrderAmounts {
  subtotal: number;
  discountAmount: number;
  totalAmount: number;
}

/** Prices each line from the quote (never from the client); unknown products fail the whole order. */
export function priceLines(lines: OrderLine[], quote: QuotedProduct[]): { items: OrderItem[]; subtotal: number } {
  const byId = new Map(quote.map((p) => [p.id, p]));
  const missing = lines.filter((l) => !byId.has(l.productId)).map((l) => l.productId);
  if (missing.length) throw new UnknownProductsError(missing);
  const items = lines.map((line) => {
    const product = byId.get(line.productId)!;
    return { productId: line.productId, name: product.name, quantity: line.quantity, unitPrice: product.price };
  });
  const subtotal = items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0);
  if (!Number.isSafeInteger(subtotal) || subtotal > MAX_ORDER_SUBTOTAL) {
    throw new ValidationError([{ field: "body.items", message: `the order comes to more than ${MAX_ORDER_SUBTOTAL} KRW` }]);
  }
  return { items, subtotal };
}

/** A discount never makes the total negative: it is capped at the subtotal (and floored at 0). */
export function applyDiscount(subtotal: number, discountAmount: number): OrderAmounts {
  const discount = Math.min(Math.max(0, Math.trunc(discountAmount)), subtotal);
  return { subtotal, discountAmount: discount, totalAmount: subtotal - discount };
}
