import { bySalesRank, invalidLinesReason, linesByProduct, newProductId, PRODUCT_ID_PATTERN } from "../src/domain/rules.ts";

describe("linesByProduct", () => {
  test("sums repeated products and sorts by product id (the row-lock order)", () => {
    expect(
      linesByProduct([
        { productId: "p_b", quantity: 2 },
        { productId: "p_a", quantity: 1 },
        { productId: "p_b", quantity: 3 },
        { productId: "p_B", quantity: 1 },
      ]),
    ).toEqual([
      { productId: "p_B", quantity: 1 },
      { productId: "p_a", quantity: 1 },
      { productId: "p_b", quantity: 5 },
    ]);
  });

  test("keeps an empty order empty", () => {
    expect(linesByProduct([])).toEqual([]);
  });
});

describe("invalidLinesReason", () => {
  test("accepts positive integer quantities", () => {
    expect(invalidLinesReason([{ productId: "p_a", quantity: 1 }])).toBeNull();
  });

  test.each([
    ["no lines", [], "no items"],
    ["a zero quantity", [{ productId: "p_a", quantity: 0 }], "p_a"],
    [
      "a negative quantity",
      [
        { productId: "p_a", quantity: 1 },
        { productId: "p_b", quantity: -2 },
      ],
      "p_b",
    ],
    ["a fraction", [{ productId: "p_c", quantity: 1.5 }], "p_c"],
  ])("refuses %s", (_label, lines, mention) => {
    expect(invalidLinesReason(lines)).toContain(mention);
  });
});

describe("newProductId", () => {
  test("matches the documented form and the path pattern", () => {
    const id = newProductId(new Date("2026-11-23T00:00:00.000Z"));
    expect(id).toMatch(/^p_[0-9a-z]{9}[0-9a-f]{12}$/);
    expect(id).toMatch(PRODUCT_ID_PATTERN);
  });

  test("sorts in creation order across milliseconds", () => {
    const ids = [0, 1, 1_000, 86_400_000, 10 * 365 * 86_400_000].map((offset) => newProductId(new Date(Date.UTC(2026, 0, 1) + offset)));
    expect([...ids].sort()).toEqual(ids);
  });

  test("differs within one millisecond", () => {
    const at = new Date();
    expect(new Set(Array.from({ length: 1_000 }, () => newProductId(at))).size).toBe(1_000);
  });
});

test("the ranking order: most units first, ties by product id ascending", () => {
  const sales = [
    { productId: "p_c", quantity: 4 },
    { productId: "p_a", quantity: 4 },
    { productId: "p_b", quantity: 9 },
    { productId: "p_d", quantity: 1 },
  ];
  expect([...sales].sort(bySalesRank).map((s) => s.productId)).toEqual(["p_b", "p_a", "p_c", "p_d"]);
});
