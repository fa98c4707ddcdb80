// The whole system through the gateway: real PostgreSQL, Redis, Kafka and registry, each service
// its own process. Scenarios of the contract's saga, its failure branches and its invariants.
import { randomUUID } from "node:crypto";
import { topicOf } from "@shop/events";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import { EventProbe, eventually, silentLogger, testInfra } from "@shop/testing";
import { ApiClient } from "./support/api.ts";
import { Shop, couponStatus, waitForFinalOrder } from "./support/fixtures.ts";
import { startTestSystem, type TestSystem } from "./support/system.ts";

/** Starting seven processes and waiting for sagas and a deadline takes longer than a unit test. */
const E2E_TIMEOUT_MS = 180_000;
const PAYMENT_LIMIT = 1_000_000;
let system: TestSystem;
let shop: Shop;
let probe: EventProbe;

beforeAll(async () => {
  system = await startTestSystem({ perService: { order: { SAGA_TIMEOUT_MS: "15000" }, payment: { PAYMENT_MAX_AMOUNT: String(PAYMENT_LIMIT) } } });
  shop = await Shop.at(system.gatewayUrl);
  probe = await EventProbe.start(
    ["OrderPlaced", "BalanceDebited", "StockReserved", "PaymentCompleted", "OrderCompleted", "OrderFailed"],
    system.topicPrefix,
    silentLogger,
  );
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await probe?.stop();
  await system?.stop();
}, E2E_TIMEOUT_MS);

const newUser = () => ApiClient.as(system.gatewayUrl);

test(
  "happy path: two products with a percent coupon complete, and every view agrees",
  async () => {
    const [kimchi, rice] = [await shop.product({ name: "Kimchi", price: 12_000, stock: 10 }), await shop.product({ name: "Rice", price: 5_000, stock: 10 })];
    const couponId = await shop.percentCoupon(10);
    const user = await newUser();
    const userCouponId = await Shop.issue(user, couponId);
    expect((await user.charge(100_000)).status).toBe(201);

    const placed = await user.order(
      [
        { productId: kimchi.id, quantity: 2 },
        { productId: rice.id, quantity: 1 },
      ],
      { userCouponId, wait: 5 },
    );
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ status: "COMPLETED", subtotal: 29_000, discountAmount: 2_900, totalAmount: 26_100, userCouponId, failureCode: null });
    expect(placed.body.items).toEqual(
      expect.arrayContaining([
        { productId: kimchi.id, name: "Kimchi", quantity: 2, unitPrice: 12_000 },
        { productId: rice.id, name: "Rice", quantity: 1, unitPrice: 5_000 },
      ]),
    );
    const orderId = placed.body.orderId as string;
    expect(placed.body.timeline.map((t: { step: string }) => t.step)).toEqual(expect.arrayContaining(["ORDER_PLACED", "PAYMENT_COMPLETED"]));

    expect(await user.balance()).toBe(73_900);
    expect(await shop.stockOf(kimchi.id)).toBe(8);
    expect(await shop.stockOf(rice.id)).toBe(9);
    await eventually(async () => expect(await couponStatus(user, userCouponId)).toBe("USED"), 5_000);
    const payments = await user.get(`/users/${user.userId}/payments?orderId=${orderId}`);
    expect(payments.body.items).toEqual([expect.objectContaining({ orderId, amount: 26_100, status: "COMPLETED", paymentId: placed.body.paymentId })]);
    const history = await user.get(`/users/${user.userId}/balance/history`);
    expect(history.body.items.map((i: { type: string; amount: number }) => [i.type, i.amount])).toEqual([
      ["PAYMENT", -26_100],
      ["CHARGE", 100_000],
    ]);
    await eventually(async () => {
      const top = await user.get("/products/top");
      expect(top.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ productId: kimchi.id, soldQuantity: 2 }),
          expect.objectContaining({ productId: rice.id, soldQuantity: 1 }),
        ]),
      );
    }, 5_000);

    // The data platform sees the order once after dropping duplicates by eventId.
    const [completed] = await probe.waitFor("OrderCompleted", (e) => e.orderId === orderId);
    expect(completed).toMatchObject({
      orderId,
      userId: user.userId,
      subtotal: 29_000,
      discountAmount: 2_900,
      totalAmount: 26_100,
      paymentId: placed.body.paymentId,
    });
    expect(new Set(probe.of("OrderCompleted", (e) => e.orderId === orderId).map((e) => e.eventId)).size).toBe(1);
  },
  E2E_TIMEOUT_MS,
);

test(
  "insufficient balance: FAILED, nothing debited, stock and coupon untouched",
  async () => {
    const product = await shop.product({ price: 30_000, stock: 5 });
    const user = await newUser();
    const userCouponId = await Shop.issue(user, await shop.percentCoupon(10));
    await user.charge(1_000);
    const placed = await user.order([{ productId: product.id, quantity: 1 }], { userCouponId, wait: 5 });
    expect(placed.body).toMatchObject({ status: "FAILED", failureCode: "INSUFFICIENT_BALANCE" });
    expect(await user.balance()).toBe(1_000);
    expect(await shop.stockOf(product.id)).toBe(5);
    await eventually(async () => expect(await couponStatus(user, userCouponId)).toBe("AVAILABLE"), 5_000);
  },
  E2E_TIMEOUT_MS,
);

test(
  "out of stock: FAILED, the debit refunded, the coupon available again",
  async () => {
    const product = await shop.product({ price: 10_000, stock: 1 });
    const user = await newUser();
    const userCouponId = await Shop.issue(user, await shop.percentCoupon(20));
    await user.charge(50_000);
    const placed = await user.order([{ productId: product.id, quantity: 2 }], { userCouponId, wait: 5 });
    expect(placed.body).toMatchObject({ status: "FAILED", failureCode: "OUT_OF_STOCK" });
    await eventually(async () => expect(await user.balance()).toBe(50_000), 5_000);
    expect(await shop.stockOf(product.id)).toBe(1);
    await eventually(async () => expect(await couponStatus(user, userCouponId)).toBe("AVAILABLE"), 5_000);
  },
  E2E_TIMEOUT_MS,
);

test(
  "payment failure: FAILED, refunded and the stock released",
  async () => {
    const product = await shop.product({ price: 600_000, stock: 3 });
    const user = await newUser();
    await user.charge(2_000_000);
    const placed = await user.order([{ productId: product.id, quantity: 2 }], { wait: 5 });
    expect(placed.body).toMatchObject({ status: "FAILED", failureCode: "PAYMENT_FAILED" });
    await eventually(async () => {
      expect(await user.balance()).toBe(2_000_000);
      expect(await shop.stockOf(product.id)).toBe(3);
    }, 5_000);
  },
  E2E_TIMEOUT_MS,
);

test(
  "an unusable coupon (someone else's) fails the order without taking anything",
  async () => {
    const product = await shop.product({ price: 1_000, stock: 3 });
    const couponId = await shop.percentCoupon(10);
    const [owner, thief] = [await newUser(), await newUser()];
    const ownersCoupon = await Shop.issue(owner, couponId);
    await thief.charge(10_000);
    const placed = await thief.order([{ productId: product.id, quantity: 1 }], { userCouponId: ownersCoupon, wait: 5 });
    expect([placed.body.failureCode, placed.body.code]).toContain("COUPON_NOT_USABLE");
    expect(await thief.balance()).toBe(10_000);
    expect(await shop.stockOf(product.id)).toBe(3);
    expect(await couponStatus(owner, ownersCoupon)).toBe("AVAILABLE");
  },
  E2E_TIMEOUT_MS,
);

test(
  "deadline passed: whatever had happened is undone",
  async () => {
    const product = await shop.product({ price: 7_000, stock: 4 });
    const user = await newUser();
    const userCouponId = await Shop.issue(user, await shop.percentCoupon(10));
    await user.charge(20_000);
    await system.kill("payment");
    try {
      const placed = await user.order([{ productId: product.id, quantity: 1 }], { userCouponId });
      expect(placed.status).toBe(202);
      const final = await waitForFinalOrder(user, placed.body.orderId, 40_000);
      expect(final).toMatchObject({ status: "FAILED", failureCode: "TIMEOUT" });
    } finally {
      await system.restart("payment");
    }
    await eventually(async () => {
      expect(await user.balance()).toBe(20_000);
      expect(await shop.stockOf(product.id)).toBe(4);
      expect(await couponStatus(user, userCouponId)).toBe("AVAILABLE");
    }, 15_000);
    // The payment that arrives after the deadline is cancelled, never kept.
    await eventually(async () => {
      const { body } = await user.get(`/users/${user.userId}/payments`);
      expect(body.items.filter((p: { status: string }) => p.status === "COMPLETED")).toEqual([]);
    }, 15_000);
  },
  E2E_TIMEOUT_MS,
);

test(
  "50 users race for 10 units: exactly 10 COMPLETED, 40 OUT_OF_STOCK, money conserved",
  async () => {
    const product = await shop.product({ price: 10_000, stock: 10 });
    const users = await Promise.all(Array.from({ length: 50 }, () => newUser()));
    await Promise.all(users.map((u) => u.charge(100_000)));
    const placed = await Promise.all(users.map((u) => u.order([{ productId: product.id, quantity: 1 }], { wait: 10 })));
    const finals = await Promise.all(placed.map((p, i) => (p.body.status === "PENDING" ? waitForFinalOrder(users[i]!, p.body.orderId) : p.body)));
    expect(finals.filter((o) => o.status === "COMPLETED")).toHaveLength(10);
    expect(finals.filter((o) => o.status === "FAILED" && o.failureCode === "OUT_OF_STOCK")).toHaveLength(40);
    expect(await shop.stockOf(product.id)).toBe(0);
    await eventually(async () => {
      const balances = await Promise.all(users.map((u) => u.balance()));
      const paid = (await Promise.all(users.map((u) => u.get(`/users/${u.userId}/payments`))))
        .flatMap((r) => r.body.items)
        .filter((p: { status: string }) => p.status === "COMPLETED");
      expect(balances.reduce((a, b) => a + b, 0) + paid.reduce((a: number, p: { amount: number }) => a + p.amount, 0)).toBe(50 * 100_000);
    }, 10_000);
  },
  E2E_TIMEOUT_MS,
);

test(
  "the same Idempotency-Key twice creates one order; with another body it is 422",
  async () => {
    const product = await shop.product({ price: 1_000, stock: 10 });
    const user = await newUser();
    await user.charge(10_000);
    const key = randomUUID();
    const first = await user.order([{ productId: product.id, quantity: 1 }], { key });
    const again = await user.order([{ productId: product.id, quantity: 1 }], { key });
    expect(again.body.orderId).toBe(first.body.orderId);
    const other = await user.order([{ productId: product.id, quantity: 2 }], { key });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const final = await waitForFinalOrder(user, first.body.orderId);
    expect(final.status).toBe("COMPLETED");
    const orders = await user.get(`/users/${user.userId}/orders`);
    expect(orders.body.items).toHaveLength(1);
    expect(await user.balance()).toBe(9_000);
  },
  E2E_TIMEOUT_MS,
);

test(
  "every saga event of a completed order delivered again changes nothing",
  async () => {
    const product = await shop.product({ price: 2_000, stock: 10 });
    const user = await newUser();
    await user.charge(10_000);
    const placed = await user.order([{ productId: product.id, quantity: 1 }], { wait: 5 });
    const orderId = placed.body.orderId as string;
    expect(placed.body.status).toBe("COMPLETED");
    await probe.waitFor("OrderCompleted", (e) => e.orderId === orderId);

    const publisher = new EventPublisher(
      createKafka("e2e-redelivery", testInfra.brokers, silentLogger),
      EventCodec.forUrl(testInfra.registryUrl, system.topicPrefix),
    );
    await publisher.connect();
    try {
      for (const received of probe.received.filter((r) => (r.payload as { orderId: string }).orderId === orderId)) {
        await publisher.publish([{ eventType: received.event, topic: topicOf(received.event, system.topicPrefix), key: orderId, payload: received.payload }]);
      }
    } finally {
      await publisher.disconnect();
    }
    await probe.waitFor("OrderCompleted", (e) => e.orderId === orderId, 2);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await user.balance()).toBe(8_000);
    expect(await shop.stockOf(product.id)).toBe(9);
    const payments = await user.get(`/users/${user.userId}/payments?orderId=${orderId}`);
    expect(payments.body.items).toHaveLength(1);
    expect((await user.get(`/users/${user.userId}/orders/${orderId}`)).body.status).toBe("COMPLETED");
    const completions = probe.of("OrderCompleted", (e) => e.orderId === orderId);
    expect(new Set(completions.map((e) => e.eventId)).size).toBe(1);
  },
  E2E_TIMEOUT_MS,
);

/** `count` users (each with their own token) ask for the coupon, `perUser` times at once each, 200 requests in flight. */
async function rush(couponId: string, count: number, perUser: number): Promise<{ status: number; code?: string; userId: string }[]> {
  const users = await Promise.all(Array.from({ length: count }, (_, i) => ApiClient.as(system.gatewayUrl, `rush-${couponId.slice(0, 8)}-${i}`)));
  const jobs = users.flatMap((u) => Array.from({ length: perUser }, () => u));
  const answers: { status: number; code?: string; userId: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < jobs.length) {
        const user = jobs[next++]!;
        const response = await user.post(`/users/${user.userId}/coupons`, { couponId });
        answers.push({ status: response.status, code: response.body?.code, userId: user.userId });
      }
    }),
  );
  return answers;
}

test(
  "coupon rush through the gateway: 10,000 users for 1,000 coupons; then 3 requests per user at once",
  async () => {
    const couponId = await shop.percentCoupon(5, 1_000);
    const answers = await rush(couponId, 10_000, 1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1_000);
    expect(answers.filter((a) => a.status === 409 && a.code === "COUPON_SOLD_OUT")).toHaveLength(9_000);
    const [row] = await system.schemas.coupon.query<{ n: string }>("SELECT count(*)::text AS n FROM user_coupons WHERE coupon_id = $1", [couponId]);
    expect(row!.n).toBe("1000");
    expect((await shop.admin.get(`/coupons/${couponId}`)).body).toMatchObject({ issuedQuantity: 1_000, remainingQuantity: 0 });

    const second = await shop.percentCoupon(5, 1_000);
    const repeated = await rush(second, 2_000, 3);
    const winners = repeated.filter((a) => a.status === 201).map((a) => a.userId);
    expect(winners).toHaveLength(1_000);
    expect(new Set(winners).size).toBe(1_000);
    expect(repeated.filter((a) => a.status !== 201 && a.status !== 409)).toEqual([]);
    const [again] = await system.schemas.coupon.query<{ n: string; users: string }>(
      "SELECT count(*)::text AS n, count(DISTINCT user_id)::text AS users FROM user_coupons WHERE coupon_id = $1",
      [second],
    );
    expect(again).toEqual({ n: "1000", users: "1000" });
  },
  E2E_TIMEOUT_MS,
);
