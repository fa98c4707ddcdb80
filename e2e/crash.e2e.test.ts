// kill -9 of each service in the middle of a stream of orders: every order still ends COMPLETED or
// FAILED within the deadline plus a margin, and the contract's invariants hold.
import { eventually } from "@shop/testing";
import { ApiClient, type ApiResponse } from "./support/api.ts";
import { Shop, placeWithRetries, waitForFinalOrder } from "./support/fixtures.ts";
import { serviceNames, startTestSystem, type ServiceName, type TestSystem } from "./support/system.ts";

const E2E_TIMEOUT_MS = 240_000;
const SAGA_TIMEOUT_MS = 10_000;
let system: TestSystem;
let shop: Shop;

beforeAll(async () => {
  system = await startTestSystem({ perService: { order: { SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS), DEADLINE_SWEEP_INTERVAL_MS: "500" } } });
  shop = await Shop.at(system.gatewayUrl);
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await system?.stop();
}, E2E_TIMEOUT_MS);

test.each(serviceNames)(
  "killing %s mid-stream: every order ends, stock and money are conserved",
  async (victim: ServiceName) => {
    const initialStock = 8;
    const product = await shop.product({ price: 1_000, stock: initialStock });
    const couponId = await shop.percentCoupon(10);
    const users = await Promise.all(Array.from({ length: 6 }, () => ApiClient.as(system.gatewayUrl)));
    const charged = 5_000;
    for (const u of users) expect((await u.charge(charged)).status).toBe(201);
    const coupons = await Promise.all(users.map((u) => Shop.issue(u, couponId)));

    // 12 orders over about two seconds; the victim dies after the fourth and is back a second later.
    const placements: Promise<{ user: ApiClient; response: ApiResponse }>[] = [];
    for (let i = 0; i < 12; i++) {
      const user = users[i % users.length]!;
      const userCouponId = i < users.length ? coupons[i % users.length] : undefined;
      placements.push(placeWithRetries(user, product.id, { userCouponId }).then((response) => ({ user, response })));
      if (i === 3) await system.kill(victim);
      if (i === 7) await system.restart(victim);
      await new Promise((r) => setTimeout(r, 150));
    }
    const placed = await Promise.all(placements);
    const finals = await Promise.all(placed.map(({ user, response }) => waitForFinalOrder(user, response.body.orderId, SAGA_TIMEOUT_MS + 20_000)));
    expect(finals.filter((o) => o.status === "PENDING")).toEqual([]);

    // Stock: initial = current + quantity in COMPLETED orders (eventually: releases may still be in flight).
    const completed = finals.filter((o) => o.status === "COMPLETED");
    await eventually(async () => expect(await shop.stockOf(product.id)).toBe(initialStock - completed.length), 20_000);
    // Money: balances + completed payments = charges; a COMPLETED order has exactly one completed payment.
    await eventually(async () => {
      const balances = await Promise.all(users.map((u) => u.balance()));
      const payments = (await Promise.all(users.map((u) => u.get(`/users/${u.userId}/payments`)))).flatMap(
        (r) => r.body.items as { orderId: string; amount: number; status: string }[],
      );
      const kept = payments.filter((p) => p.status === "COMPLETED");
      expect(kept.map((p) => p.orderId).sort()).toEqual(completed.map((o) => o.orderId).sort());
      expect(balances.reduce((a, b) => a + b, 0) + kept.reduce((a, p) => a + p.amount, 0)).toBe(users.length * charged);
    }, 20_000);
  },
  E2E_TIMEOUT_MS,
);
