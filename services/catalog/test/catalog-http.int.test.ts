import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { BalanceDebited } from "@shop/events";
import { authHeadersFor, createTestSchema, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadCatalogConfig } from "../src/config.ts";
import { start, type RunningCatalog } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
/** A Redis database of the catalog's tests, apart from the default one that `npm start` uses. */
const redisUrl = "redis://127.0.0.1:6379/11";
const keyPrefix = uniqueTopicPrefix("cathttp");

let db: TestSchema;
let catalog: RunningCatalog;
let redis: Redis;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "catalog-http" });
  catalog = await start(
    loadCatalogConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      EVENTS_ENABLED: "false",
      DB_POOL_SIZE: "20",
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
    }),
    silentLogger,
  );
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  await catalog?.stop();
  await db?.drop();
  redis?.disconnect();
});

interface Answer {
  status: number;
  contentType: string;
  body: any;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${catalog.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(await authHeadersFor(path)) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", body: text ? JSON.parse(text) : undefined };
}

let productSeq = 0;
async function createProduct(overrides: Record<string, unknown> = {}) {
  const response = await call("POST", "/api/v1/admin/products", { name: `테스트 상품 ${++productSeq}`, price: 12_000, stock: 10, ...overrides });
  expect(response.status).toBe(201);
  return response.body as { id: string; name: string; price: number; stock: number };
}

const productRows = () => db.query("SELECT id, name, price::text, stock, version FROM products ORDER BY id");
const getProduct = (id: string) => call("GET", `/api/v1/products/${id}`);

function expectProblem(answer: Answer, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toContain("application/problem+json");
  expect(answer.body).toMatchObject({ status, code });
  expect(typeof answer.body.type).toBe("string");
  expect(typeof answer.body.title).toBe("string");
  expect(typeof answer.body.detail).toBe("string");
  expect(typeof answer.body.traceId).toBe("string");
}

function balanceDebited(orderId: string, items: { productId: string; quantity: number }[]): BalanceDebited {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    orderId,
    userId: "http-user",
    amount: 1000,
    items: items.map((i) => ({ ...i, unitPrice: 1000 })),
  };
}

test("an admin creates a product; it reads back by id with an id of the documented form", async () => {
  const created = await createProduct({ name: "  제주 감귤 5kg  ", price: 24_900, stock: 100 });
  expect(created).toEqual({ id: expect.stringMatching(/^p_[0-9a-z]{9}[0-9a-f]{12}$/), name: "제주 감귤 5kg", price: 24_900, stock: 100 });
  const read = await getProduct(created.id);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(created);
});

test("a product may be created with stock 0", async () => {
  expect((await createProduct({ stock: 0 })).stock).toBe(0);
});

test("an unknown product is a 404 NOT_FOUND problem; a malformed id is a 400", async () => {
  expectProblem(await getProduct("p_doesnotexist"), 404, "NOT_FOUND");
  expectProblem(await getProduct("x".repeat(65)), 400, "VALIDATION_FAILED");
  expectProblem(await getProduct("bad%20id"), 400, "VALIDATION_FAILED");
});

test("the listing pages through every product once, oldest first", async () => {
  const created = [await createProduct(), await createProduct(), await createProduct(), await createProduct(), await createProduct()];
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await call("GET", `/api/v1/products?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page.status).toBe(200);
    expect(page.body.items.length).toBeLessThanOrEqual(2);
    seen.push(...page.body.items.map((p: { id: string }) => p.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen).toEqual((await productRows()).map((r) => r.id));
  expect(new Set(seen).size).toBe(seen.length);
  const positions = created.map((p) => seen.indexOf(p.id));
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  const firstPage = await call("GET", "/api/v1/products");
  expect(firstPage.body.items.length).toBe(Math.min(20, seen.length));
});

test("a cursor the API did not return is a 400 naming query.cursor, not an empty page", async () => {
  const first = await call("GET", "/api/v1/products?limit=1");
  const cursor: string = first.body.nextCursor;
  expect(cursor).toEqual(expect.any(String));
  // A product id (what a cursor used to be), a truncated or edited cursor: each was silently an empty or shifted page.
  for (const bad of ["p_doesnotexist", cursor.slice(0, -1), `A${cursor}`, cursor.replace(/^./, (c) => (c === "c" ? "d" : "c"))]) {
    const answer = await call("GET", `/api/v1/products?cursor=${encodeURIComponent(bad)}`);
    expectProblem(answer, 400, "VALIDATION_FAILED");
    expect({ bad, fields: answer.body.errors.map((e: { field: string }) => e.field) }).toEqual({ bad, fields: ["query.cursor"] });
  }
  expect((await call("GET", `/api/v1/products?cursor=${cursor}`)).status).toBe(200);
});

test.each(["limit=0", "limit=101", "limit=100000000000", "limit=1.5", "limit=-1", "limit=abc", "limit=1&limit=2", "cursor=bad%20cursor", "cursor=", "other=1"])(
  "a listing with %s is a 400 problem",
  async (query) => {
    expectProblem(await call("GET", `/api/v1/products?${query}`), 400, "VALIDATION_FAILED");
  },
);

test.each([
  ["missing name", { price: 1000, stock: 1 }],
  ["blank name", { name: "   ", price: 1000, stock: 1 }],
  ["too long a name", { name: "가".repeat(201), price: 1000, stock: 1 }],
  ["zero price", { name: "n", price: 0, stock: 1 }],
  ["negative price", { name: "n", price: -1, stock: 1 }],
  ["fractional price", { name: "n", price: 10.5, stock: 1 }],
  ["string price", { name: "n", price: "1000", stock: 1 }],
  ["absurd price", { name: "n", price: 1e15, stock: 1 }],
  ["negative stock", { name: "n", price: 1000, stock: -1 }],
  ["fractional stock", { name: "n", price: 1000, stock: 1.5 }],
  ["string stock", { name: "n", price: 1000, stock: "5" }],
  ["absurd stock", { name: "n", price: 1000, stock: 1e12 }],
  ["missing stock", { name: "n", price: 1000 }],
  ["unknown field", { name: "n", price: 1000, stock: 1, id: "p_mine" }],
  ["null price", { name: "n", price: null, stock: 1 }],
  ["non-object", [1, 2]],
])("creating a product with a %s is a 400 problem and creates nothing", async (_label, body) => {
  const before = await productRows();
  const answer = await call("POST", "/api/v1/admin/products", body);
  expectProblem(answer, 400, "VALIDATION_FAILED");
  expect(answer.body.errors.length).toBeGreaterThan(0);
  expect(await productRows()).toEqual(before);
});

test("malformed JSON is a 400 problem", async () => {
  expectProblem(await call("POST", "/api/v1/admin/products", "{name: 1"), 400, "VALIDATION_FAILED");
});

test("a PATCH changes any of name, price and stock", async () => {
  const product = await createProduct({ stock: 5 });
  const renamed = await call("PATCH", `/api/v1/admin/products/${product.id}`, { name: "새 이름" });
  expect(renamed.status).toBe(200);
  expect(renamed.body).toEqual({ ...product, name: "새 이름" });
  const all = await call("PATCH", `/api/v1/admin/products/${product.id}`, { price: 9_900, stockDelta: -5 });
  expect(all.body).toEqual({ id: product.id, name: "새 이름", price: 9_900, stock: 0 });
  const restocked = await call("PATCH", `/api/v1/admin/products/${product.id}`, { stockDelta: 7 });
  expect(restocked.body.stock).toBe(7);
  expect((await getProduct(product.id)).body).toEqual(restocked.body);
});

test("a stock change below 0 is a 409 STOCK_BELOW_ZERO and changes nothing, not even the name", async () => {
  const product = await createProduct({ stock: 3 });
  const before = await productRows();
  const answer = await call("PATCH", `/api/v1/admin/products/${product.id}`, { name: "바뀌면 안 됨", price: 1, stockDelta: -4 });
  expectProblem(answer, 409, "STOCK_BELOW_ZERO");
  expect(answer.body).toMatchObject({ productId: product.id, stock: 3, stockDelta: -4 });
  expect(await productRows()).toEqual(before);
  expect((await getProduct(product.id)).body).toEqual(product);
});

test("a stock change above the limit is a 409 and changes nothing", async () => {
  const product = await createProduct({ stock: 999_999 });
  const before = await productRows();
  expectProblem(await call("PATCH", `/api/v1/admin/products/${product.id}`, { stockDelta: 2 }), 409, "STOCK_LIMIT_EXCEEDED");
  expect(await productRows()).toEqual(before);
});

test("concurrent stock removals never take the stock below 0", async () => {
  const product = await createProduct({ stock: 10 });
  const answers = await Promise.all(Array.from({ length: 30 }, () => call("PATCH", `/api/v1/admin/products/${product.id}`, { stockDelta: -1 })));
  expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
  expect(answers.filter((a) => a.status === 409 && a.body.code === "STOCK_BELOW_ZERO")).toHaveLength(20);
  expect((await db.query("SELECT stock FROM products WHERE id = $1", [product.id]))[0]!.stock).toBe(0);
});

test.each([
  ["an empty body", {}],
  ["an unknown field", { stock: 5 }],
  ["a zero stockDelta", { stockDelta: 0 }],
  ["a fractional stockDelta", { stockDelta: 1.5 }],
  ["a string stockDelta", { stockDelta: "1" }],
  ["an absurd stockDelta", { stockDelta: -1e12 }],
  ["a negative price", { price: -100 }],
  ["a fractional price", { price: 99.9 }],
  ["a blank name", { name: "" }],
  ["a null name", { name: null }],
])("a PATCH with %s is a 400 problem and changes nothing", async (_label, body) => {
  const product = await createProduct();
  const before = await productRows();
  expectProblem(await call("PATCH", `/api/v1/admin/products/${product.id}`, body), 400, "VALIDATION_FAILED");
  expect(await productRows()).toEqual(before);
});

test("a PATCH of an unknown product is a 404 and creates nothing", async () => {
  const before = await productRows();
  expectProblem(await call("PATCH", "/api/v1/admin/products/p_nope", { stockDelta: 1 }), 404, "NOT_FOUND");
  expect(await productRows()).toEqual(before);
});

test("a price change is visible at once, even to reads racing it", async () => {
  const product = await createProduct({ price: 10_000 });
  await getProduct(product.id); // now cached
  let racing = true;
  let patchedAt = Number.POSITIVE_INFINITY;
  const startedAfterPatch: number[] = [];
  const readers = Array.from({ length: 8 }, async () => {
    while (racing) {
      const startedAt = performance.now();
      const answer = await getProduct(product.id);
      if (startedAt > patchedAt) startedAfterPatch.push(answer.body.price);
    }
  });
  try {
    await new Promise((r) => setTimeout(r, 100));
    for (const price of [11_000, 12_000, 13_000]) {
      patchedAt = Number.POSITIVE_INFINITY;
      const patched = await call("PATCH", `/api/v1/admin/products/${product.id}`, { price });
      patchedAt = performance.now();
      startedAfterPatch.length = 0;
      expect(patched.body.price).toBe(price);
      expect((await getProduct(product.id)).body.price).toBe(price);
      await new Promise((r) => setTimeout(r, 150));
      expect(startedAfterPatch.length).toBeGreaterThan(0);
      expect(startedAfterPatch.filter((p) => p !== price)).toEqual([]);
    }
  } finally {
    racing = false;
    await Promise.all(readers);
  }
});

test("a read right after a reservation or a release commits shows the new stock, though the old one was cached", async () => {
  const product = await createProduct({ stock: 50 });
  for (let round = 0; round < 3; round++) {
    const before = (await getProduct(product.id)).body.stock as number; // cached from here on
    const debited = balanceDebited(randomUUID(), [{ productId: product.id, quantity: 1 }]);
    await catalog.saga.handle("BalanceDebited", [debited]);
    expect((await getProduct(product.id)).body.stock).toBe(before - 1);
    await catalog.saga.handle("OrderFailed", [
      {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        orderId: debited.orderId,
        userId: debited.userId,
        failureCode: "TIMEOUT",
        userCouponId: null,
      },
    ]);
    expect((await getProduct(product.id)).body.stock).toBe(before);
  }
});

test("GET reads through the cache while the quote reads PostgreSQL", async () => {
  const product = await createProduct({ price: 5_000, stock: 5 });
  // Plant a cache entry that disagrees with the database (a version from the future, so it stays).
  await redis.set(`${keyPrefix}catalog:product:${product.id}`, JSON.stringify({ ...product, price: 1, version: 1_000 }), "PX", 5_000);
  expect((await getProduct(product.id)).body.price).toBe(1);
  const quote = await call("POST", "/internal/v1/products/quote", { productIds: [product.id] });
  expect(quote.status).toBe(200);
  expect(quote.body).toEqual({ items: [product] });
  await redis.del(`${keyPrefix}catalog:product:${product.id}`);
});

test("a quote answers every product in the order asked", async () => {
  const a = await createProduct({ price: 1_000 });
  const b = await createProduct({ price: 2_000 });
  const quote = await call("POST", "/internal/v1/products/quote", { productIds: [b.id, a.id] });
  expect(quote.status).toBe(200);
  expect(quote.body).toEqual({ items: [b, a] });
});

test("a quote with unknown ids is a 404 listing every missing id", async () => {
  const a = await createProduct();
  const answer = await call("POST", "/internal/v1/products/quote", { productIds: [a.id, "p_missing1", "p_missing2"] });
  expectProblem(answer, 404, "NOT_FOUND");
  expect(answer.body.missingProductIds).toEqual(["p_missing1", "p_missing2"]);
});

test.each([
  ["no ids", { productIds: [] }],
  ["repeated ids", { productIds: ["p_a", "p_a"] }],
  ["51 ids", { productIds: Array.from({ length: 51 }, (_, i) => `p_${i}`) }],
  ["a non-string id", { productIds: [1] }],
  ["a malformed id", { productIds: ["p a"] }],
  ["no list", {}],
  ["an unknown field", { productIds: ["p_a"], userId: "u" }],
])("a quote with %s is a 400 problem", async (_label, body) => {
  expectProblem(await call("POST", "/internal/v1/products/quote", body), 400, "VALIDATION_FAILED");
});

test("the quote is not part of the public API document", async () => {
  const doc = await call("GET", "/openapi.json");
  expect(doc.body.openapi).toBe("3.1.0");
  expect(Object.keys(doc.body.paths).sort()).toEqual([
    "/api/v1/admin/products",
    "/api/v1/admin/products/{productId}",
    "/api/v1/products",
    "/api/v1/products/top",
    "/api/v1/products/{productId}",
  ]);
});

test("top sellers without any sale is an empty list over the documented window", async () => {
  const answer = await call("GET", "/api/v1/products/top");
  expect(answer.status).toBe(200);
  expect(answer.body.items).toEqual([]);
  const from = new Date(answer.body.from).getTime();
  const to = new Date(answer.body.to).getTime();
  expect(to - from).toBe(3 * 24 * 60 * 60 * 1000);
  expect(new Date(from + 9 * 3600_000).toISOString().slice(11)).toBe("00:00:00.000Z"); // midnight in Seoul
  expect(to).toBeGreaterThan(Date.now());
  expectProblem(await call("GET", "/api/v1/products/top?limit=10"), 400, "VALIDATION_FAILED");
});

test("health, readiness, metrics and unknown routes", async () => {
  expect((await call("GET", "/healthz")).status).toBe(200);
  expect((await call("GET", "/readyz")).body).toMatchObject({ status: "ready" });
  expect(await (await fetch(`${catalog.url}/metrics`)).text()).toContain("http_request_duration_seconds");
  expectProblem(await call("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND");
  // A known path with a method it does not take is a 405 (see catalog-hostile-input.int.test.ts).
  expectProblem(await call("DELETE", "/api/v1/admin/products/p_x"), 405, "METHOD_NOT_ALLOWED");
});
