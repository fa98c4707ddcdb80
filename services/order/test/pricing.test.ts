import { DomainError, ValidationError } from "@shop/errors";
import { UnknownProductsError } from "../src/domain/errors.ts";
import { applyDiscount, priceLines, type QuotedProduct } from "../src/domain/pricing.ts";

const quote: QuotedProduct[] = [
  { id: "a", name: "Apple", price: 1_200, stock: 5 },
  { id: "b", name: "Banana", price: 350, stock: 0 },
];

describe("priceLines", () => {
  test("takes names and unit prices from the quote and sums the lines, in request order", () => {
    const priced = priceLines(
      [
        { productId: "b", quantity: 3 },
        { productId: "a", quantity: 2 },
      ],
      quote,
    );
    expect(priced.items).toEqual([
      { productId: "b", name: "Banana", quantity: 3, unitPrice: 350 },
      { productId: "a", name: "Apple", quantity: 2, unitPrice: 1_200 },
    ]);
    expect(priced.subtotal).toBe(3 * 350 + 2 * 1_200);
  });

  test("ignores stock: running out is the saga's verdict (OUT_OF_STOCK), not the quote's", () => {
    expect(priceLines([{ productId: "b", quantity: 10 }], quote).subtotal).toBe(3_500);
  });

  test("names every product the quote lacks", () => {
    const attempt = () =>
      priceLines(
        [
          { productId: "a", quantity: 1 },
          { productId: "x", quantity: 1 },
          { productId: "y", quantity: 1 },
        ],
        quote,
      );
    expect(attempt).toThrow(UnknownProductsError);
    try {
      attempt();
    } catch (error) {
      expect((error as DomainError).code).toBe("NOT_FOUND");
      expect((error as UnknownProductsError).missingProductIds).toEqual(["x", "y"]);
    }
  });

  test("refuses absurd totals instead of losing precision", () => {
    const pricey: QuotedProduct[] = [{ id: "gold", name: "Gold", price: 2_000_000_000, stock: 1 }];
    expect(() => priceLines([{ productId: "gold", quantity: 1000 }], pricey)).toThrow(ValidationError);
    expect(priceLines([{ productId: "gold", quantity: 500 }], pricey).subtotal).toBe(1_000_000_000_000);
  });
});

describe("applyDiscount", () => {
  test.each([
    [10_000, 0, 0, 10_000],
    [10_000, 2_500, 2_500, 7_500],
    [10_000, 10_000, 10_000, 0],
    [10_000, 12_000, 10_000, 0], // never below zero
    [10_000, -500, 0, 10_000], // a negative discount is no discount
    [0, 1_000, 0, 0],
  ])("subtotal %i with a %i discount: discount %i, total %i", (subtotal, discount, expectedDiscount, expectedTotal) => {
    expect(applyDiscount(subtotal, discount)).toEqual({ subtotal, discountAmount: expectedDiscount, totalAmount: expectedTotal });
  });

  test("subtotal = discount + total, always", () => {
    for (let subtotal = 0; subtotal < 2_000; subtotal += 97) {
      for (let discount = -50; discount < 2_500; discount += 131) {
        const amounts = applyDiscount(subtotal, discount);
        expect(amounts.discountAmount + amounts.totalAmount).toBe(subtotal);
        expect(amounts.totalAmount).toBeGreaterThanOrEqual(0);
      }
    }
  });
});
