// Scale-out: two instances of every service behind round-robin balancers (standing in for
// Kubernetes Services). While orders flow, a third instance of every service starts and one of the
// first two stops, so consumer groups rebalance and outbox-relay leadership can move; every order
// still completes and the invariant audit finds nothing (TestSystem.stop runs it).
import { randomUUID } from "node:crypto";
import { ApiClient, type ApiResponse } from "./support/api.ts";
import { Shop, waitForFinalOrder } from "./support/fixtures.ts";
import { serviceNames, startTestSystem, type TestSystem } from "./support/system.ts";

const E2E_TIMEOUT_MS = 300_000;
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ instances: 2 });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await system?.stop();
}, E2E_TIMEOUT_MS);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client retries with the same Idempotency-Key until the order is taken (an instance may go away under it). */
async function place(user: ApiClient, productId: string, userCouponId?: string): Promise<ApiResponse> {
  const key = randomUUID();
  const giveUpAt = Date.now() + 60_000;
  for (;;) {
    const response = await user.order([{ productId, quantity: 1 }], { key, userCouponId }).catch(() => undefined);
    if (response && (response.status === 201 || response.status === 202)) return response;
    if (Date.now() > giveUpAt) throw new Error(`placement never accepted: ${response?.status} ${JSON.stringify(response?.body)}`);
    await sleep(250);
  }
}

test(
  "orders keep completing while every service scales from two instances to three and back to two",
  async () => {
    const shop = await Shop.at(system.gatewayUrl);
    const product = await shop.product({ price: 1_000, stock: 1_000 });
    const couponId = await shop.percentCoupon(10, 20);
    const users = await Promise.all(Array.from({ length: 40 }, () => ApiClient.as(system.gatewayUrl)));
    for (const user of users) expect((await user.charge(100_000)).status).toBe(201);
    const coupons = await Promise.all(users.slice(0, 20).map((user) => Shop.issue(user, couponId)));

    const placements: Promise<{ user: ApiClient; response: ApiResponse }>[] = [];
    const orders = 160;
    const scaling = (async () => {
      await sleep(2_000);
      await Promise.all(serviceNames.map((name) => system.addInstance(name)));
      await sleep(1_000);
      await Promise.all(serviceNames.map((name) => system.stopInstance(name, 0)));
    })();
    for (let i = 0; i < orders; i++) {
      const user = users[i % users.length]!;
      // The first 20 orders use each coupon holder's coupon once.
      placements.push(place(user, product.id, i < 20 ? coupons[i] : undefined).then((response) => ({ user, response })));
      await sleep(50);
    }
    await scaling;
    for (const name of serviceNames) expect(system.runningInstances(name)).toBe(2);

    const placed = await Promise.all(placements);
    const finals = await Promise.all(placed.map(({ user, response }) => waitForFinalOrder(user, (response.body as { orderId: string }).orderId, 60_000)));
    const byStatus = finals.reduce<Record<string, number>>((count, order: { status: string; failureCode?: string }) => {
      const key = order.status === "FAILED" ? `FAILED:${order.failureCode}` : order.status;
      count[key] = (count[key] ?? 0) + 1;
      return count;
    }, {});
    expect(byStatus).toEqual({ COMPLETED: orders });
    expect(await shop.stockOf(product.id)).toBe(1_000 - orders);
    await system.expectConsistent();
  },
  E2E_TIMEOUT_MS,
);
