import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createTestSchema, type TestSchema } from "@shop/testing";
import { audit, formatReport, type AuditSchemas } from "../src/audit.ts";

const services = { wallet: "wallet", catalog: "catalog", coupon: "coupon", payment: "payment", orders: "order" } as const;
const db = {} as Record<keyof AuditSchemas, TestSchema>;
let client: pg.Client;
let schemas: AuditSchemas;

const settledOrder = (id: string, status: string, total: number) =>
  db.orders.query(
    `INSERT INTO orders (order_id, user_id, status, subtotal, discount_amount, total_amount, deadline_at, completion_event_id, created_at, updated_at)
     VALUES ($1, 'u1', $2::order_status, $3, 0, $3, now() - interval '10 minutes', $4, now() - interval '11 minutes', now() - interval '10 minutes')`,
    [id, status, total, randomUUID()],
  );

beforeAll(async () => {
  for (const [key, service] of Object.entries(services) as [keyof AuditSchemas, string][]) {
    db[key] = await createTestSchema({
      migrationsDir: fileURLToPath(new URL(`../../../services/${service}/prisma/migrations`, import.meta.url)),
      label: `audit-${service}`,
    });
  }
  schemas = Object.fromEntries(Object.entries(db).map(([key, schema]) => [key, schema.schema])) as unknown as AuditSchemas;
  client = new pg.Client(db.wallet.connection);
  await client.connect();

  // A consistent shop: u1 charged 10,000; o1 COMPLETED (debited 1,000, paid, stock committed);
  // o2 FAILED (debited 500 and refunded, stock released, payment cancelled).
  await db.wallet.query("INSERT INTO wallets (user_id, balance) VALUES ('u1', 9000)");
  await db.wallet.query(
    `INSERT INTO ledger_entries (user_id, type, amount, balance_after, order_id) VALUES
     ('u1', 'CHARGE', 10000, 10000, NULL), ('u1', 'PAYMENT', -1000, 9000, 'o1'), ('u1', 'PAYMENT', -500, 8500, 'o2'), ('u1', 'REFUND', 500, 9000, 'o2')`,
  );
  await db.wallet.query("INSERT INTO order_debits (order_id, user_id, amount, status) VALUES ('o1', 'u1', 1000, 'DEBITED'), ('o2', 'u1', 500, 'REFUNDED')");
  await settledOrder("o1", "COMPLETED", 1000);
  await settledOrder("o2", "FAILED", 500);
  await db.payment.query(
    `INSERT INTO payments (payment_id, order_id, user_id, amount, status) VALUES ($1, 'o1', 'u1', 1000, 'COMPLETED'), ($2, 'o2', 'u1', 500, 'CANCELLED')`,
    [randomUUID(), randomUUID()],
  );
  await db.catalog.query("INSERT INTO stock_reservations (order_id, user_id, status) VALUES ('o1', 'u1', 'COMMITTED'), ('o2', 'u1', 'RELEASED')");
});
afterAll(async () => {
  await client?.end();
  for (const schema of Object.values(db)) await schema?.drop();
});

const violated = async () => (await audit(client, schemas, 60)).checks.filter((c) => c.violations > 0).map((c) => `${c.name}: ${c.examples.join(",")}`);

test("a consistent shop passes every check, and the report says so", async () => {
  const report = await audit(client, schemas, 60);
  expect(report.violations).toBe(0);
  expect(report.checks.length).toBeGreaterThanOrEqual(10);
  expect(formatReport(report)).toContain("no invariant violated");
});

test("each corrupted row is reported by the check it breaks, and nothing is changed by the audit", async () => {
  await db.wallet.query("UPDATE wallets SET balance = balance + 1 WHERE user_id = 'u1'");
  expect(await violated()).toEqual(["wallet balance = its ledger: u1"]);
  await db.wallet.query("UPDATE wallets SET balance = balance - 1 WHERE user_id = 'u1'");

  await db.payment.query("UPDATE payments SET status = 'FAILED' WHERE order_id = 'o1'");
  await db.wallet.query("UPDATE order_debits SET status = 'DEBITED' WHERE order_id = 'o2'");
  expect(await violated()).toEqual(["COMPLETED ⇒ paid once: o1", "FAILED ⇒ nothing kept: o2"]);
  await db.payment.query("UPDATE payments SET status = 'COMPLETED' WHERE order_id = 'o1'");
  await db.wallet.query("UPDATE order_debits SET status = 'REFUNDED' WHERE order_id = 'o2'");

  await db.orders.query(
    `INSERT INTO orders (order_id, user_id, status, subtotal, discount_amount, total_amount, deadline_at, completion_event_id)
     VALUES ('o3', 'u1', 'PENDING', 100, 0, 100, now() - interval '5 minutes', $1)`,
    [randomUUID()],
  );
  expect(await violated()).toEqual(["no PENDING order past its deadline: o3"]);
  await db.orders.query("DELETE FROM orders WHERE order_id = 'o3'");
  expect(await violated()).toEqual([]);
});
