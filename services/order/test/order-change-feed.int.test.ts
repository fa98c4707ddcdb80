import { parseDatabaseUrl } from "@shop/config";
import { eventually, silentLogger, type TestSchema } from "@shop/testing";
import { PgOrderChangeFeed, orderChangeChannel } from "../src/data/order-change-feed.ts";
import { newTestSchema } from "./support/harness.ts";

let db: TestSchema;
let feed: PgOrderChangeFeed;

beforeAll(async () => {
  db = await newTestSchema("order-changes");
  feed = new PgOrderChangeFeed(parseDatabaseUrl(db.databaseUrl), silentLogger);
  await feed.start();
});
afterAll(async () => {
  await feed?.stop();
  await db?.drop();
});

const notify = (orderId: string) => db.query("SELECT pg_notify($1, $2)", [orderChangeChannel(db.schema), orderId]);

test("a committed NOTIFY for the order wakes its waiter at once", async () => {
  const watch = feed.watch("order-1");
  const started = Date.now();
  const woken = watch.changed(5_000);
  await notify("order-1");
  await woken;
  expect(Date.now() - started).toBeLessThan(1_000);
  watch.close();
});

test("a change that arrives before the waiter asks is not lost", async () => {
  const watch = feed.watch("order-2");
  await notify("order-2");
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await watch.changed(5_000);
  expect(Date.now() - started).toBeLessThan(100);
  watch.close();
});

test("other orders' changes do not wake the waiter; the timeout does", async () => {
  const watch = feed.watch("order-3");
  const started = Date.now();
  const woken = watch.changed(600);
  await notify("order-4");
  await woken;
  expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  watch.close();
});

test("a lost LISTEN connection is re-established", async () => {
  const killed = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`order-changes:${db.schema}`]);
  expect(killed).toHaveLength(1);
  const watch = feed.watch("order-5");
  // Until the feed is back, a waiter only times out (callers then re-read); afterwards notifications arrive again.
  await eventually(
    async () => {
      const woken = watch.changed(300);
      const started = Date.now();
      await notify("order-5");
      await woken;
      expect(Date.now() - started).toBeLessThan(250);
    },
    10_000,
    100,
  );
  watch.close();
});
