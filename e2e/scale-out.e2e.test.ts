// Scale-out: two instances of every service behind round-robin balancers (standing in for
// Kubernetes Services). While orders flow, a third instance of every service starts and one of the
// first two stops, so consumer groups rebalance and outbox-relay leadership can move; every order
// still completes and the invariant audit finds nothing (TestSystem.stop runs it).
import { ApiClient, type ApiResponse } from "./support/api.ts";
import { Shop, placeWithRetries, waitForFinalOrder } from "./support/fixtures.ts";
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
      placements.push(
        placeWithRetries(user, product.id, { userCouponId: i < 20 ? coupons[i] : undefined, giveUpAfterMs: 60_000 }).then((response) => ({ user, response })),
      );
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
