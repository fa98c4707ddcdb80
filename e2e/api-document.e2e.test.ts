// The running system against docs/openapi.json: the gateway serves that very document, and the
// answers of every status the document lists (errors included) match it. ApiClient checks each
// answer (support/openapi.ts), so every call below is also an assertion on the document.
import { randomUUID } from "node:crypto";
import { eventually } from "@shop/testing";
import { ApiClient } from "./support/api.ts";
import { Shop, waitForFinalOrder } from "./support/fixtures.ts";
import { apiDocument } from "./support/openapi.ts";
import { startTestSystem, type TestSystem } from "./support/system.ts";

const E2E_TIMEOUT_MS = 180_000;
let system: TestSystem;
let shop: Shop;
/** Statuses seen, by operation. */
const seen = new Map<string, Set<number>>();

beforeAll(async () => {
  // A small write burst and a quick breaker, so that 429 and 503 are reachable in a test.
  system = await startTestSystem({ perService: { gateway: { RATE_LIMIT_BURST: "10", RATE_LIMIT_WRITES_PER_SECOND: "0.2", BREAKER_VOLUME_THRESHOLD: "3" } } });
  shop = await Shop.at(system.gatewayUrl);
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await system?.stop();
}, E2E_TIMEOUT_MS);

const newUser = () => ApiClient.as(system.gatewayUrl);
const note = (label: string, status: number) => (seen.get(label) ?? seen.set(label, new Set()).get(label)!).add(status);
function expectStatus(label: string, answer: { status: number; body: any }, status: number, code?: string): void {
  expect({ label, status: answer.status, code: answer.body?.code }).toEqual({ label, status, code: code ?? answer.body?.code });
  note(label, status);
}

test("the gateway serves docs/openapi.json itself (with every service present)", async () => {
  const served = (await (await fetch(`${system.gatewayUrl}/openapi.json`)).json()) as Record<string, unknown>;
  expect(served).toEqual({ ...apiDocument, "x-missing-services": [] });
});

test("successes and business errors are as documented", async () => {
  const product = await shop.product({ name: "제주 감귤 5kg", price: 24_900, stock: 5 });
  const couponId = await shop.percentCoupon(10, 1);
  const user = await newUser();

  expectStatus("chargeBalance", await user.charge(100_000), 201);
  const key = randomUUID();
  expectStatus("chargeBalance", await user.post(`/users/${user.userId}/balance/charges`, { amount: 1_000 }, { "idempotency-key": key }), 201);
  expectStatus(
    "chargeBalance",
    await user.post(`/users/${user.userId}/balance/charges`, { amount: 2_000 }, { "idempotency-key": key }),
    422,
    "IDEMPOTENCY_KEY_REUSED",
  );

  const issued = await user.post(`/users/${user.userId}/coupons`, { couponId });
  expectStatus("issueCoupon", issued, 201);
  expectStatus("issueCoupon", await user.post(`/users/${user.userId}/coupons`, { couponId }), 409, "COUPON_ALREADY_ISSUED");
  const late = await newUser();
  expectStatus("issueCoupon", await late.post(`/users/${late.userId}/coupons`, { couponId }), 409, "COUPON_SOLD_OUT");
  expectStatus("issueCoupon", await late.post(`/users/${late.userId}/coupons`, { couponId: randomUUID() }), 404, "NOT_FOUND");

  const placed = await user.order([{ productId: product.id, quantity: 1 }], { userCouponId: issued.body.userCouponId });
  expectStatus("placeOrder", placed, 202);
  const order = await waitForFinalOrder(user, placed.body.orderId);
  expect(order).toMatchObject({ status: "COMPLETED", totalAmount: 22_410 });
  expectStatus("placeOrder", await user.order([{ productId: product.id, quantity: 1 }], { wait: 5 }), 201);
  expectStatus("placeOrder", await user.order([{ productId: "p_doesnotexist", quantity: 1 }]), 404, "NOT_FOUND");

  const firstPage = await user.get(`/users/${user.userId}/orders?limit=1`);
  expectStatus("listOrders", firstPage, 200);
  expectStatus("listOrders", await user.get(`/users/${user.userId}/orders?limit=1&cursor=${firstPage.body.nextCursor}`), 200);
  expectStatus("listOrders", await user.get(`/users/${user.userId}/orders?cursor=1`), 400, "VALIDATION_FAILED");
  expectStatus("getOrder", await user.get(`/users/${user.userId}/orders/${randomUUID()}`), 404, "NOT_FOUND");
  expectStatus("listBalanceHistory", await user.get(`/users/${user.userId}/balance/history`), 200);
  expectStatus("listPayments", await user.get(`/users/${user.userId}/payments?orderId=${order.orderId}`), 200);
  expectStatus("listUserCoupons", await user.get(`/users/${user.userId}/coupons`), 200);
  expectStatus("getBalance", await user.get(`/users/${user.userId}/balance`), 200);
  await eventually(async () => expect((await user.get("/products/top")).body.items).toEqual([expect.objectContaining({ productId: product.id })]), 10_000);
  expectStatus("listProducts", await user.get("/products?limit=2"), 200);
  expectStatus("getProduct", await user.get(`/products/${product.id}`), 200);
  expectStatus("getProduct", await user.get("/products/p_doesnotexist"), 404, "NOT_FOUND");
  expectStatus("getCouponCampaign", await user.get(`/coupons/${couponId}`), 200);
  expectStatus("listOpenCouponCampaigns", await user.get("/coupons"), 200);
  expectStatus("updateProduct", await shop.admin.patch(`/admin/products/${product.id}`, { stockDelta: -100 }), 409, "STOCK_BELOW_ZERO");
  expectStatus("updateProduct", await shop.admin.patch(`/admin/products/${product.id}`, { price: 22_900 }), 200);
});

test("refusals at the edge are as documented: 400, 401, 403, 405, 415, 429", async () => {
  const user = await newUser();
  expectStatus("chargeBalance", await user.charge(0), 400, "VALIDATION_FAILED");
  expectStatus("listProducts", await user.get("/products?limit=0"), 400, "VALIDATION_FAILED");
  const anonymous = ApiClient.anonymous(system.gatewayUrl, user.userId);
  expectStatus("getBalance", await anonymous.get(`/users/${user.userId}/balance`), 401, "UNAUTHORIZED");
  expectStatus("getBalance", await (await newUser()).get(`/users/${user.userId}/balance`), 403, "FORBIDDEN");
  expectStatus("createProduct", await user.post("/admin/products", { name: "n", price: 1, stock: 1 }), 403, "FORBIDDEN");
  expectStatus("products (DELETE)", await anonymous.call("DELETE", "/products"), 405, "METHOD_NOT_ALLOWED");
  expectStatus("getBalance (PUT)", await user.call("PUT", `/users/${user.userId}/balance`, { balance: 1 }), 405, "METHOD_NOT_ALLOWED");
  expectStatus(
    "chargeBalance",
    await user.call("POST", `/users/${user.userId}/balance/charges`, { amount: 1 }, { "content-type": "text/plain" }),
    415,
    "UNSUPPORTED_MEDIA_TYPE",
  );

  // The write burst is 10 per user, refilled at 0.2 a second: the 11th write in a row is limited.
  const writer = await newUser();
  const answers = [];
  for (let i = 0; i < 12; i++) answers.push(await writer.charge(1_000));
  expect(answers.map((a) => a.status)).toContain(429);
  const limited = answers.find((a) => a.status === 429)!;
  expectStatus("chargeBalance", limited, 429, "RATE_LIMITED");
  expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
});

test("a service that is down: 502 from the gateway, then 503 once its breaker opens", async () => {
  const user = await newUser();
  await system.kill("payment");
  const statuses: number[] = [];
  await eventually(
    async () => {
      const answer = await user.get(`/users/${user.userId}/payments`);
      statuses.push(answer.status);
      note("listPayments", answer.status);
      expect(answer.status).toBe(503);
      expectStatus("listPayments", answer, 503, "SERVICE_UNAVAILABLE");
    },
    20_000,
    50,
  );
  expect(statuses[0]).toBe(502);
});

test("every error status of the contract was seen, each answer matching the document", () => {
  const statuses = new Set([...seen.values()].flatMap((s) => [...s]));
  expect([...statuses].filter((s) => s >= 400).sort()).toEqual(expect.arrayContaining([400, 401, 403, 404, 405, 409, 415, 422, 429, 502, 503]));
});
