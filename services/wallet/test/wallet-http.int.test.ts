import { fileURLToPath } from "node:url";
import { authHeadersFor, createTestSchema, silentLogger, type TestSchema } from "@shop/testing";
import { loadWalletConfig } from "../src/config.ts";
import { start, type RunningWallet } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

let db: TestSchema;
let wallet: RunningWallet;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "wallet-http" });
  wallet = await start(loadWalletConfig({ DATABASE_URL: db.databaseUrl, PORT: "0", EVENTS_ENABLED: "false", DB_POOL_SIZE: "20" }), silentLogger);
});
afterAll(async () => {
  await wallet?.stop();
  await db?.drop();
});

let userSeq = 0;
const newUser = () => `u${Date.now().toString(36)}-${++userSeq}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${wallet.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(await authHeadersFor(path)), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

const balanceOf = async (userId: string) => (await call("GET", `/api/v1/users/${userId}/balance`)).body.balance as number;
const charge = (userId: string, amount: unknown, headers: Record<string, string> = {}) =>
  call("POST", `/api/v1/users/${userId}/balance/charges`, { amount }, headers);

test("a user never seen has balance 0", async () => {
  const userId = newUser();
  const response = await call("GET", `/api/v1/users/${userId}/balance`);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ userId, balance: 0 });
});

test("balances read at the same time are each the reader's own, and each sees the charge made before it", async () => {
  const users = Array.from({ length: 30 }, newUser);
  await Promise.all(users.map((userId, i) => charge(userId, 100 + i)));
  // Read together (one shared query); then charged and read together again, with users that have no wallet mixed in.
  expect(await Promise.all(users.map(balanceOf))).toEqual(users.map((_, i) => 100 + i));
  await Promise.all(users.map((userId) => charge(userId, 1)));
  const strangers = [newUser(), newUser()];
  expect(await Promise.all([...users, ...strangers].map(balanceOf))).toEqual([...users.map((_, i) => 101 + i), 0, 0]);
});

test("a charge answers 201 with the balance after it", async () => {
  const userId = newUser();
  await charge(userId, 1000);
  const response = await charge(userId, 500);
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ userId, amount: 500, balance: 1500 });
  expect(typeof response.body.chargeId).toBe("string");
});

test("500 concurrent charges of 1 KRW raise the balance by exactly 500", async () => {
  const userId = newUser();
  await charge(userId, 10);
  const responses = await Promise.all(Array.from({ length: 500 }, () => charge(userId, 1)));
  expect(responses.filter((r) => r.status === 201)).toHaveLength(500);
  expect(await balanceOf(userId)).toBe(510);
  const [row] = await db.query<{ sum: string }>("SELECT sum(amount)::text AS sum FROM ledger_entries WHERE user_id = $1", [userId]);
  const sum = row?.sum;
  expect(Number(sum)).toBe(510);
  // Every intermediate balance appears exactly once: the charges were serialized, none was lost.
  const afters = await db.query<{ balance_after: string }>("SELECT balance_after::text FROM ledger_entries WHERE user_id = $1 ORDER BY id", [userId]);
  expect(new Set(afters.map((r) => r.balance_after)).size).toBe(501);
});

test("concurrent charges of several users: each receipt is its own charge's entry, and the ledger runs in id order", async () => {
  const users = [newUser(), newUser(), newUser()];
  const charges = Array.from({ length: 90 }, (_, i) => ({ userId: users[i % 3]!, amount: 1 + ((i * 7) % 13) }));
  const responses = await Promise.all(charges.map((c) => charge(c.userId, c.amount)));
  for (const [i, response] of responses.entries()) {
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ userId: charges[i]!.userId, amount: charges[i]!.amount });
  }
  for (const userId of users) {
    const entries = await db.query<{ id: string; amount: string; balance_after: string }>(
      "SELECT id::text, amount::text, balance_after::text FROM ledger_entries WHERE user_id = $1 ORDER BY id",
      [userId],
    );
    // Each entry's balance is the previous one plus its amount, in id order.
    let balance = 0;
    for (const entry of entries) {
      balance += Number(entry.amount);
      expect(Number(entry.balance_after)).toBe(balance);
    }
    expect(await balanceOf(userId)).toBe(balance);
    // The receipts are exactly the entries: same ids, amounts and balances.
    const receipts = responses
      .filter((r) => r.body.userId === userId)
      .map((r) => ({ id: r.body.chargeId, amount: String(r.body.amount), balance_after: String(r.body.balance) }));
    expect(receipts.sort((a, b) => Number(a.id) - Number(b.id))).toEqual(entries);
  }
});

test("a replay with the same Idempotency-Key returns the first response and changes nothing", async () => {
  const userId = newUser();
  const first = await charge(userId, 700, { "idempotency-key": "charge-1" });
  const again = await Promise.all(Array.from({ length: 20 }, () => charge(userId, 700, { "idempotency-key": "charge-1" })));
  expect(first.status).toBe(201);
  for (const r of again) {
    expect(r.status).toBe(201);
    expect(r.body).toEqual(first.body);
  }
  expect(again.some((r) => r.headers.get("idempotent-replayed") === "true")).toBe(true);
  expect(await balanceOf(userId)).toBe(700);
});

test("concurrent first requests with one Idempotency-Key charge once", async () => {
  const userId = newUser();
  const responses = await Promise.all(Array.from({ length: 30 }, () => charge(userId, 100, { "idempotency-key": "race" })));
  expect(new Set(responses.map((r) => r.body.chargeId)).size).toBe(1);
  expect(await balanceOf(userId)).toBe(100);
});

test("the same Idempotency-Key with another body is 422 and changes nothing", async () => {
  const userId = newUser();
  await charge(userId, 100, { "idempotency-key": "k" });
  const response = await charge(userId, 200, { "idempotency-key": "k" });
  expect(response.status).toBe(422);
  expect(response.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
  expect(await balanceOf(userId)).toBe(100);
});

test.each([
  ["zero", { amount: 0 }],
  ["negative", { amount: -1 }],
  ["fraction", { amount: 1.5 }],
  ["string", { amount: "10" }],
  ["missing", {}],
  ["over the limit", { amount: 10_000_001 }],
  ["unknown field", { amount: 10, currency: "USD" }],
  ["not an object", [10]],
  ["null", { amount: null }],
])("a %s amount is a 400 problem+json and changes nothing", async (_label, body) => {
  const userId = newUser();
  await charge(userId, 50);
  const response = await call("POST", `/api/v1/users/${userId}/balance/charges`, body);
  expect(response.status).toBe(400);
  expect(response.contentType).toContain("application/problem+json");
  expect(response.body).toMatchObject({ status: 400, code: "VALIDATION_FAILED", title: "Bad Request" });
  expect(response.body.errors.length).toBeGreaterThan(0);
  expect(typeof response.body.traceId).toBe("string");
  expect(await balanceOf(userId)).toBe(50);
});

test("malformed JSON and bad ids are 400 problem+json", async () => {
  const broken = await call("POST", `/api/v1/users/${newUser()}/balance/charges`, "{amount: 1");
  expect(broken.status).toBe(400);
  expect(broken.body.code).toBe("VALIDATION_FAILED");
  const badUser = await call("GET", `/api/v1/users/${"x".repeat(65)}/balance`);
  expect(badUser.status).toBe(400);
  const badKey = await charge(newUser(), 1, { "idempotency-key": "k".repeat(256) });
  expect(badKey.status).toBe(400);
  expect(badKey.body.errors[0].field).toBe("header.idempotency-key");
});

test("history is newest first, paginated, and sums to the balance", async () => {
  const userId = newUser();
  for (const amount of [100, 200, 300, 400, 500]) await charge(userId, amount);
  const first = await call("GET", `/api/v1/users/${userId}/balance/history?limit=2`);
  expect(first.status).toBe(200);
  expect(first.body.items.map((i: { amount: number }) => i.amount)).toEqual([500, 400]);
  expect(first.body.items[0]).toMatchObject({ type: "CHARGE", balanceAfter: 1500 });
  const rest = await call("GET", `/api/v1/users/${userId}/balance/history?limit=10&cursor=${first.body.nextCursor}`);
  expect(rest.body.items.map((i: { amount: number }) => i.amount)).toEqual([300, 200, 100]);
  expect(rest.body.nextCursor).toBeNull();
  const total = [...first.body.items, ...rest.body.items].reduce((s: number, i: { amount: number }) => s + i.amount, 0);
  expect(total).toBe(await balanceOf(userId));
  // A ledger id (what a cursor used to be, and then an empty page) or an edited cursor is refused like any invalid input.
  for (const bad of ["limit=0", "limit=101", "limit=1.5", "cursor=abc", "cursor=999999999", `cursor=${first.body.nextCursor}x`, "other=1"]) {
    const answer = await call("GET", `/api/v1/users/${userId}/balance/history?${bad}`);
    expect({ bad, status: answer.status, code: answer.body.code }).toEqual({ bad, status: 400, code: "VALIDATION_FAILED" });
  }
});

test("health, readiness, metrics and the OpenAPI document", async () => {
  expect((await call("GET", "/healthz")).status).toBe(200);
  expect((await call("GET", "/readyz")).status).toBe(200);
  const metrics = await fetch(`${wallet.url}/metrics`);
  expect(await metrics.text()).toContain("http_request_duration_seconds");
  const doc = await call("GET", "/openapi.json");
  expect(doc.body.openapi).toBe("3.1.0");
  expect(doc.body.paths["/api/v1/users/{userId}/balance/charges"].post.requestBody).toBeDefined();
  const unknown = await call("GET", "/nope");
  expect(unknown.status).toBe(404);
  expect(unknown.contentType).toContain("application/problem+json");
});
