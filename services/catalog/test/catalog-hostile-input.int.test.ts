// Inputs found by fuzzing that used to be 500s (and opened the gateway's breaker): each is now a
// 4xx problem+json naming the field, and nothing reaches the database.
import { fileURLToPath } from "node:url";
import { authHeadersFor, createTestSchema, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadCatalogConfig } from "../src/config.ts";
import { start, type RunningCatalog } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
/** The catalog tests' Redis database (see catalog-http.int.test.ts), with a key prefix of this file. */
const redisUrl = "redis://127.0.0.1:6379/11";

let db: TestSchema;
let catalog: RunningCatalog;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "catalog-hostile" });
  catalog = await start(
    loadCatalogConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      EVENTS_ENABLED: "false",
      DB_POOL_SIZE: "5",
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: uniqueTopicPrefix("cathostile"),
    }),
    silentLogger,
  );
});
afterAll(async () => {
  await catalog?.stop();
  await db?.drop();
});

interface Answer {
  status: number;
  contentType: string;
  body: any;
}

/** `body` goes out as written: a string is sent raw, so JSON escapes reach the service unchanged. */
async function call(method: string, path: string, body?: string): Promise<Answer> {
  const response = await fetch(`${catalog.url}${path}`, { method, headers: { "content-type": "application/json", ...(await authHeadersFor(path)) }, body });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", body: text ? JSON.parse(text) : undefined };
}

function expectProblem(answer: Answer, status: number, code: string, fields: string[]) {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toContain("application/problem+json");
  expect(answer.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    traceId: expect.any(String),
  });
  expect((answer.body.errors as { field: string }[]).map((e) => e.field)).toEqual(fields);
}

const productRows = () => db.query("SELECT id, name, price::text, stock, version FROM products ORDER BY id");

test("a product id with bad percent-encoding (/products/%ff) is a 400 naming the parameter", async () => {
  expectProblem(await call("GET", "/api/v1/products/%ff"), 400, "VALIDATION_FAILED", ["path.productId"]);
  expectProblem(await call("PATCH", "/api/v1/admin/products/%E0%A4%A", '{"price":1000}'), 400, "VALIDATION_FAILED", ["path.productId"]);
});

test.each([
  ["NUL", '"a\\u0000b"'],
  ["a lone surrogate", '"\\ud800"'],
  ["a lone surrogate after text", '"name\\udfff"'],
  ["another control character", '"line\\nbreak"'],
])("an admin product named with %s is a 400 naming the name, and nothing is stored", async (_label, name) => {
  const before = await productRows();
  expectProblem(await call("POST", "/api/v1/admin/products", `{"name":${name},"price":1000,"stock":1}`), 400, "VALIDATION_FAILED", ["body.name"]);
  const created = await call("POST", "/api/v1/admin/products", '{"name":"fine","price":1000,"stock":1}');
  expect(created.status).toBe(201);
  expectProblem(await call("PATCH", `/api/v1/admin/products/${created.body.id}`, `{"name":${name}}`), 400, "VALIDATION_FAILED", ["body.name"]);
  const after = await productRows();
  expect(after).toHaveLength(before.length + 1);
  expect(after.find((row) => row.id === created.body.id)).toMatchObject({ name: "fine", version: 1 });
});

test("a product with a well-formed name of any script is stored as sent", async () => {
  const created = await call("POST", "/api/v1/admin/products", JSON.stringify({ name: "제주 감귤 🍊 5kg", price: 24_900, stock: 3 }));
  expect(created.status).toBe(201);
  expect(created.body.name).toBe("제주 감귤 🍊 5kg");
});

test("a method the path does not take is a 405 with Allow, not a 404", async () => {
  const response = await fetch(`${catalog.url}/api/v1/admin/products/p_x`, { method: "DELETE", headers: await authHeadersFor("/api/v1/admin/products/p_x") });
  expect(response.status).toBe(405);
  expect(response.headers.get("allow")).toBe("OPTIONS, PATCH");
  expect(await response.json()).toMatchObject({ code: "METHOD_NOT_ALLOWED" });
});
