import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import type { CatalogService } from "../domain/catalog-service.ts";
import { MAX_NAME_LENGTH, MAX_PRICE, MAX_STOCK, type Product } from "../domain/model.ts";
import { PRODUCT_ID_PATTERN } from "../domain/rules.ts";

/** Examples of the document: two products of the demo catalog. */
const TANGERINES = { id: "p_0mvxln6o0b08d33f25303", name: "제주 감귤 5kg", price: 24_900, stock: 97 };
const EARPHONES = { id: "p_0mvxlnaiwc252d11dbe84", name: "무선 블루투스 이어폰", price: 59_000, stock: 100 };

export const productId = z
  .string()
  .regex(PRODUCT_ID_PATTERN, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -")
  .meta({ examples: [TANGERINES.id] });
const productParams = z.object({ productId });
/** Products are paged by id, oldest first. */
const productCursor = schemas.pageCursor("catalog.products", PRODUCT_ID_PATTERN, TANGERINES.id);

const productName = schemas.text(1, MAX_NAME_LENGTH);
const price = schemas.positiveInt(MAX_PRICE).describe("KRW");
const stock = z.number().int("must be an integer").min(0, "must not be negative").max(MAX_STOCK, `must be at most ${MAX_STOCK}`);
const stockDelta = z
  .number()
  .int("must be an integer")
  .min(-MAX_STOCK, `must be at least ${-MAX_STOCK}`)
  .max(MAX_STOCK, `must be at most ${MAX_STOCK}`)
  .refine((v) => v !== 0, "must not be 0")
  .describe("Added to the stock; negative takes away. The stock may never go below 0 (409 STOCK_BELOW_ZERO).");

export const productBody = z
  .object({
    id: z.string(),
    name: z.string(),
    price: z.number().int().min(1).max(MAX_PRICE).describe("KRW"),
    stock: z.number().int().min(0).max(MAX_STOCK).describe("Units available (at most 1 s old)"),
  })
  .meta({ id: "Product" });
const topSellers = z
  .object({
    from: z.iso.datetime().describe("00:00 Asia/Seoul two days ago (inclusive), as a UTC instant"),
    to: z.iso.datetime().describe("00:00 Asia/Seoul tomorrow (exclusive), as a UTC instant"),
    items: z
      .array(
        z.object({
          rank: z.number().int().min(1).max(5),
          productId: z.string(),
          name: z.string(),
          price: z.number().int().min(1).describe("KRW, today's price"),
          soldQuantity: z.number().int().min(1).describe("Units sold in COMPLETED orders within the window"),
        }),
      )
      .max(5),
  })
  .meta({ id: "TopSellers" });

export const toBody = (p: Product) => ({ id: p.id, name: p.name, price: p.price, stock: p.stock });

const productNotFound = {
  NOT_FOUND: { summary: "No such product", detail: "product p_0mvxlnzzz000000000000 was not found", extensions: { productId: "p_0mvxlnzzz000000000000" } },
};

/**
 * Public reads a shared cache (the gateway's) may keep for a second; browsers must not
 * (max-age=0). The gateway keeps them a quarter of that: a product read lags at most 1 s.
 */
const SHARED_FOR_A_SECOND = { "cache-control": "public, max-age=0, s-maxage=1" };
const sharedForASecondHeaders = {
  "Cache-Control": {
    description: "A shared cache (the gateway, for anonymous readers) may keep this answer for up to a second; a browser must not",
    required: true,
    schema: { type: "string" },
    example: SHARED_FOR_A_SECOND["cache-control"],
  },
};

export function catalogRoutes(catalog: CatalogService): RouteSpec[] {
  return [
    // Before /products/:productId, which would otherwise take "top" for an id.
    defineRoute({
      method: "get",
      operationId: "listTopSellers",
      path: "/api/v1/products/top",
      summary: "Best sellers: at most 5 products by units sold in COMPLETED orders over today and the two days before (Asia/Seoul calendar days)",
      description: "A completed order shows here within 5 seconds.",
      tags: ["Catalog"],
      query: z.strictObject({}),
      responses: {
        200: {
          description: "Ranked by units sold, ties by productId ascending",
          schema: topSellers,
          headers: sharedForASecondHeaders,
          example: {
            from: "2026-11-20T15:00:00.000Z",
            to: "2026-11-23T15:00:00.000Z",
            items: [
              { rank: 1, productId: TANGERINES.id, name: TANGERINES.name, price: TANGERINES.price, soldQuantity: 42 },
              { rank: 2, productId: EARPHONES.id, name: EARPHONES.name, price: EARPHONES.price, soldQuantity: 17 },
            ],
          },
        },
      },
      handler: async () => {
        const top = await catalog.topSellers();
        return { status: 200, headers: SHARED_FOR_A_SECOND, body: { from: top.from.toISOString(), to: top.to.toISOString(), items: top.items } };
      },
    }),
    defineRoute({
      method: "get",
      operationId: "listProducts",
      path: "/api/v1/products",
      summary: "Products, oldest first",
      tags: ["Catalog"],
      query: z.strictObject({ limit: schemas.pageLimit(100, 20), cursor: productCursor.schema }),
      invalidExample: { query: { limit: "0" } },
      responses: {
        200: {
          description: "A page of products",
          schema: z.object({ items: z.array(productBody), nextCursor: schemas.nextCursor }),
          headers: sharedForASecondHeaders,
          example: { items: [TANGERINES], nextCursor: productCursor.example },
        },
      },
      handler: async ({ query }) => {
        const page = await catalog.listProducts(query.limit, query.cursor);
        return { status: 200, headers: SHARED_FOR_A_SECOND, body: { items: page.items.map(toBody), nextCursor: productCursor.next(page.nextCursor) } };
      },
    }),
    defineRoute({
      method: "get",
      operationId: "getProduct",
      path: "/api/v1/products/:productId",
      summary: "One product (stock at most 1 s old)",
      tags: ["Catalog"],
      params: productParams,
      invalidExample: { params: { productId: "감귤" } },
      responses: { 200: { description: "The product", schema: productBody, example: TANGERINES, headers: sharedForASecondHeaders } },
      errors: ["NOT_FOUND"],
      problemExamples: productNotFound,
      handler: async ({ params }) => ({ status: 200, headers: SHARED_FOR_A_SECOND, body: toBody(await catalog.getProduct(params.productId)) }),
    }),
    defineRoute({
      method: "post",
      operationId: "createProduct",
      path: "/api/v1/admin/products",
      summary: "Create a product (admin)",
      tags: ["Catalog admin"],
      body: z.strictObject({ name: productName, price, stock }),
      bodyExample: { name: "한라봉 3kg", price: 32_900, stock: 50 },
      invalidExample: { body: { name: "한라봉 3kg", price: 0, stock: -1 } },
      responses: {
        201: { description: "Created", schema: productBody, example: { id: "p_0mvxlp4e7a41f9c02d6b8", name: "한라봉 3kg", price: 32_900, stock: 50 } },
      },
      handler: async ({ body }) => ({ status: 201, body: toBody(await catalog.createProduct(body)) }),
    }),
    defineRoute({
      method: "patch",
      operationId: "updateProduct",
      path: "/api/v1/admin/products/:productId",
      summary: "Change name, price and/or stock (admin)",
      tags: ["Catalog admin"],
      params: productParams,
      body: z
        .strictObject({ name: productName.optional(), price: price.optional(), stockDelta: stockDelta.optional() })
        .refine((b) => b.name !== undefined || b.price !== undefined || b.stockDelta !== undefined, "give at least one of name, price, stockDelta"),
      bodyExample: { price: 22_900, stockDelta: 50 },
      invalidExample: { body: {} },
      responses: { 200: { description: "The product after the change", schema: productBody, example: { ...TANGERINES, price: 22_900, stock: 147 } } },
      errors: ["NOT_FOUND", "STOCK_BELOW_ZERO", "STOCK_LIMIT_EXCEEDED"],
      problemExamples: {
        ...productNotFound,
        STOCK_BELOW_ZERO: {
          summary: "Taking away more than is in stock",
          detail: `stock 97 of product ${TANGERINES.id} cannot change by -100: it would go below 0`,
          extensions: { productId: TANGERINES.id, stock: 97, stockDelta: -100 },
        },
        STOCK_LIMIT_EXCEEDED: {
          summary: `Stock over ${MAX_STOCK}`,
          detail: `stock 97 of product ${TANGERINES.id} cannot change by ${MAX_STOCK}: it would exceed ${MAX_STOCK}`,
          extensions: { productId: TANGERINES.id, stock: 97, stockDelta: MAX_STOCK, max: MAX_STOCK },
        },
      },
      handler: async ({ params, body }) => ({ status: 200, body: toBody(await catalog.updateProduct(params.productId, body)) }),
    }),
  ];
}
