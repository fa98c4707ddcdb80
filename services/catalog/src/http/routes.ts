import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import type { CatalogService } from "../domain/catalog-service.ts";
import { MAX_NAME_LENGTH, MAX_PRICE, MAX_STOCK, type Product } from "../domain/model.ts";
import { PRODUCT_ID_PATTERN } from "../domain/rules.ts";

export const productId = z.string().regex(PRODUCT_ID_PATTERN, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -");
const productParams = z.object({ productId });

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

export const productBody = z.object({ id: z.string(), name: z.string(), price: z.number().int(), stock: z.number().int() });
const topSellers = z.object({
  from: z.string().describe("00:00 Asia/Seoul two days ago (inclusive), as a UTC instant"),
  to: z.string().describe("00:00 Asia/Seoul tomorrow (exclusive), as a UTC instant"),
  items: z.array(z.object({ rank: z.number().int(), productId: z.string(), name: z.string(), price: z.number().int(), soldQuantity: z.number().int() })),
});

export const toBody = (p: Product) => ({ id: p.id, name: p.name, price: p.price, stock: p.stock });

export function catalogRoutes(catalog: CatalogService): RouteSpec[] {
  return [
    // Before /products/:productId, which would otherwise take "top" for an id.
    defineRoute({
      method: "get",
      path: "/api/v1/products/top",
      summary: "Best sellers: at most 5 products by units sold in COMPLETED orders over today and the two days before (Asia/Seoul calendar days)",
      tags: ["Catalog"],
      query: z.strictObject({}),
      responses: { 200: { description: "Ranked by units sold, ties by productId ascending", schema: topSellers } },
      handler: async () => {
        const top = await catalog.topSellers();
        return { status: 200, body: { from: top.from.toISOString(), to: top.to.toISOString(), items: top.items } };
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/products",
      summary: "Products, oldest first",
      tags: ["Catalog"],
      query: z.strictObject({
        limit: schemas.pageLimit(100, 20),
        cursor: productId.optional().describe("nextCursor of the previous page"),
      }),
      responses: { 200: { description: "A page of products", schema: z.object({ items: z.array(productBody), nextCursor: z.string().nullable() }) } },
      handler: async ({ query }) => {
        const page = await catalog.listProducts(query.limit, query.cursor);
        return { status: 200, body: { items: page.items.map(toBody), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/products/:productId",
      summary: "One product (stock at most 1 s old)",
      tags: ["Catalog"],
      params: productParams,
      responses: { 200: { description: "The product", schema: productBody } },
      errors: ["NOT_FOUND"],
      handler: async ({ params }) => ({ status: 200, body: toBody(await catalog.getProduct(params.productId)) }),
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/admin/products",
      summary: "Create a product (admin)",
      tags: ["Catalog admin"],
      body: z.strictObject({ name: productName, price, stock }),
      responses: { 201: { description: "Created", schema: productBody } },
      errors: ["VALIDATION_FAILED"],
      handler: async ({ body }) => ({ status: 201, body: toBody(await catalog.createProduct(body)) }),
    }),
    defineRoute({
      method: "patch",
      path: "/api/v1/admin/products/:productId",
      summary: "Change name, price and/or stock (admin)",
      tags: ["Catalog admin"],
      params: productParams,
      body: z
        .strictObject({ name: productName.optional(), price: price.optional(), stockDelta: stockDelta.optional() })
        .refine((b) => b.name !== undefined || b.price !== undefined || b.stockDelta !== undefined, "give at least one of name, price, stockDelta"),
      responses: { 200: { description: "The product after the change", schema: productBody } },
      errors: ["VALIDATION_FAILED", "NOT_FOUND", "STOCK_BELOW_ZERO", "STOCK_LIMIT_EXCEEDED"],
      handler: async ({ params, body }) => ({ status: 200, body: toBody(await catalog.updateProduct(params.productId, body)) }),
    }),
  ];
}
