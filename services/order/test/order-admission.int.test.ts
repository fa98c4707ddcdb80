import { eventually, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import type { RunningOrder } from "../src/main.ts";
import { SagaDriver, httpClient, newKey, newTestSchema, newUser, sagaEvents, sleep, startOrderService } from "./support/harness.ts";
import { startUpstreamStandIn, type UpstreamStandIn } from "./support/upstream-stand-in.ts";

const prefix = uniqueTopicPrefix("orderadmit");
/** The backlog head is the 20th-oldest pending order (BACKLOG_HEAD_POSITION in main.ts). */
const BACKLOG = 25;

let db: TestSchema;
let upstream: UpstreamStandIn;
let order: RunningOrder;
let saga: SagaDriver;
const call = httpClient(() => order.url);

beforeAll(async () => {
  db = await newTestSchema("order-admission");
  upstream = await startUpstreamStandIn();
  upstream.addProduct({ id: "mug", name: "Mug", price: 9_000, stock: 1_000 });
  order = await startOrderService(db, upstream, {
    TOPIC_PREFIX: prefix,
    ADMISSION_MAX_BACKLOG_AGE_MS: "400",
    ADMISSION_SAMPLE_INTERVAL_MS: "50",
    DEADLINE_SWEEPER_ENABLED: "false",
  });
  saga = await SagaDriver.connect(prefix);
});
afterAll(async () => {
  await saga?.disconnect();
  await order?.stop();
  await upstream?.close();
  await db?.drop();
});

const place = (userId: string, key = newKey()) =>
  call("POST", `/api/v1/users/${userId}/orders`, { items: [{ productId: "mug", quantity: 1 }] }, { "idempotency-key": key });

test("while the saga is too far behind, placement is refused with 503 and Retry-After and changes nothing; once it catches up, orders are accepted again", async () => {
  // Orders nobody works on: the other participants are not running, so they stay PENDING and age.
  const backlog = await Promise.all(Array.from({ length: BACKLOG }, () => place(newUser("backlog"))));
  expect(backlog.map((r) => r.status)).toEqual(Array(BACKLOG).fill(202));
  await sleep(600);

  const latecomer = newUser("late");
  const key = newKey();
  const refused = await eventually(
    async () => {
      const answer = await place(latecomer, key);
      expect(answer.status).toBe(503);
      return answer;
    },
    3_000,
    50,
  );
  expect(refused.contentType).toContain("application/problem+json");
  expect(refused.body).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  // Nothing stored: no order, no claim on the key, no quote asked for.
  expect(await db.query("SELECT 1 FROM orders WHERE user_id = $1", [latecomer])).toEqual([]);
  expect(await db.query("SELECT 1 FROM idempotent_requests WHERE user_id = $1", [latecomer])).toEqual([]);

  // The saga catches up: every backlog order completes.
  for (const answer of backlog) {
    const placed = answer.body;
    await saga.send("BalanceDebited", sagaEvents.balanceDebited(placed));
    await saga.send("StockReserved", sagaEvents.stockReserved(placed));
    await saga.send("PaymentCompleted", sagaEvents.paymentCompleted(placed));
  }
  await eventually(
    async () => {
      const [row] = await db.query<{ pending: number }>("SELECT count(*)::int AS pending FROM orders WHERE status = 'PENDING'");
      expect(row!.pending).toBe(0);
    },
    20_000,
    100,
  );

  // The refused request, retried with the same key, is now a fresh placement.
  const retried = await eventually(
    async () => {
      const answer = await place(latecomer, key);
      expect(answer.status).toBe(202);
      return answer;
    },
    3_000,
    50,
  );
  expect(retried.body).toMatchObject({ userId: latecomer, status: "PENDING" });
});
