import { EventProbe, eventually, metricValue, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import type { RunningOrder } from "../src/main.ts";
import { httpClient, newKey, newTestSchema, newUser, sleep, startOrderService } from "./support/harness.ts";
import { startUpstreamStandIn, type UpstreamStandIn } from "./support/upstream-stand-in.ts";

const prefix = uniqueTopicPrefix("orderplace");

let db: TestSchema;
let upstream: UpstreamStandIn;
let order: RunningOrder;
let probe: EventProbe;
const call = httpClient(() => order.url);

beforeAll(async () => {
  db = await newTestSchema("order-placement");
  upstream = await startUpstreamStandIn();
  order = await startOrderService(db, upstream, { TOPIC_PREFIX: prefix });
  probe = await EventProbe.start(["OrderPlaced", "OrderFailed"], prefix, silentLogger);
});
afterAll(async () => {
  await probe?.stop();
  await order?.stop();
  await upstream?.close();
  await db?.drop();
});

let productSeq = 0;
const newProduct = (price: number, name = `Product ${++productSeq}`) =>
  upstream.addProduct({ id: `p-${Date.now().toString(36)}-${++productSeq}`, name, price, stock: 100 });

const place = (userId: string, body: unknown, headers: Record<string, string> = { "idempotency-key": newKey() }) =>
  call("POST", `/api/v1/users/${userId}/orders`, body, headers);
const ordersOf = (userId: string) => db.query<{ order_id: string; status: string }>("SELECT order_id, status FROM orders WHERE user_id = $1", [userId]);

test("an order is priced from the catalog, stored PENDING and announced once with OrderPlaced", async () => {
  const userId = newUser();
  const keyboard = newProduct(45_000, "Keyboard");
  const cable = newProduct(3_500, "Cable");
  const response = await place(userId, {
    items: [
      { productId: keyboard.id, quantity: 1 },
      { productId: cable.id, quantity: 3 },
    ],
  });

  expect(response.status).toBe(202);
  expect(response.body).toMatchObject({
    userId,
    status: "PENDING",
    items: [
      { productId: keyboard.id, name: "Keyboard", quantity: 1, unitPrice: 45_000 },
      { productId: cable.id, name: "Cable", quantity: 3, unitPrice: 3_500 },
    ],
    subtotal: 55_500,
    discountAmount: 0,
    totalAmount: 55_500,
    userCouponId: null,
    paymentId: null,
    failureCode: null,
  });
  expect(response.body.timeline).toEqual([{ step: "ORDER_PLACED", status: "SUCCEEDED", at: response.body.createdAt }]);
  expect(response.headers.get("location")).toBe(`/api/v1/users/${userId}/orders/${response.body.orderId}`);

  const [placed] = await probe.waitFor("OrderPlaced", (e) => e.orderId === response.body.orderId);
  expect(placed).toMatchObject({
    userId,
    items: [
      { productId: keyboard.id, quantity: 1, unitPrice: 45_000 },
      { productId: cable.id, quantity: 3, unitPrice: 3_500 },
    ],
    subtotal: 55_500,
    discountAmount: 0,
    totalAmount: 55_500,
    userCouponId: null,
  });
  // The deadline travels with the event so that participants know it too.
  expect(Date.parse(placed!.deadlineAt) - Date.parse(response.body.createdAt)).toBe(30_000);
  await sleep(500);
  expect(probe.of("OrderPlaced", (e) => e.orderId === response.body.orderId)).toHaveLength(1);

  const read = await call("GET", `/api/v1/users/${userId}/orders/${response.body.orderId}`);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(response.body);
});

test("a reserved coupon's discount is taken off the total, capped at the subtotal", async () => {
  const userId = newUser();
  const product = newProduct(10_000);
  upstream.addCoupon({ userCouponId: `uc-${userId}`, couponId: "c-1", userId, discountAmount: 3_000, usable: true });
  const response = await place(userId, { items: [{ productId: product.id, quantity: 2 }], userCouponId: `uc-${userId}` });
  expect(response.status).toBe(202);
  expect(response.body).toMatchObject({ subtotal: 20_000, discountAmount: 3_000, totalAmount: 17_000, userCouponId: `uc-${userId}`, status: "PENDING" });
  expect(upstream.reservations.get(`uc-${userId}`)).toBe(response.body.orderId);
  const [placed] = await probe.waitFor("OrderPlaced", (e) => e.orderId === response.body.orderId);
  expect(placed).toMatchObject({ subtotal: 20_000, discountAmount: 3_000, totalAmount: 17_000, userCouponId: `uc-${userId}` });

  const cheap = newProduct(1_000);
  upstream.addCoupon({ userCouponId: `uc-big-${userId}`, couponId: "c-2", userId, discountAmount: 5_000, usable: true });
  const capped = await place(userId, { items: [{ productId: cheap.id, quantity: 2 }], userCouponId: `uc-big-${userId}` });
  expect(capped.body).toMatchObject({ subtotal: 2_000, discountAmount: 2_000, totalAmount: 0 });
});

test("an unusable coupon ends the order FAILED at once with COUPON_NOT_USABLE, and nothing is debited", async () => {
  const userId = newUser();
  const product = newProduct(5_000);
  upstream.addCoupon({ userCouponId: `uc-used-${userId}`, couponId: "c-3", userId, discountAmount: 1_000, usable: false });
  const response = await place(userId, { items: [{ productId: product.id, quantity: 1 }], userCouponId: `uc-used-${userId}` });

  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({
    status: "FAILED",
    failureCode: "COUPON_NOT_USABLE",
    discountAmount: 0,
    totalAmount: 5_000,
    userCouponId: `uc-used-${userId}`,
  });
  expect(response.body.timeline.map((e: { step: string; status: string }) => [e.step, e.status])).toEqual([
    ["ORDER_PLACED", "SUCCEEDED"],
    ["COUPON_REJECTED", "FAILED"],
  ]);
  const [failed] = await probe.waitFor("OrderFailed", (e) => e.orderId === response.body.orderId);
  // The order holds no reservation on the coupon, so there is nothing for the coupon service to release.
  expect(failed).toMatchObject({ userId, failureCode: "COUPON_NOT_USABLE", userCouponId: null });
  await sleep(300);
  // No OrderPlaced: the wallet never debits this order.
  expect(probe.of("OrderPlaced", (e) => e.orderId === response.body.orderId)).toHaveLength(0);
  expect(await ordersOf(userId)).toEqual([{ order_id: response.body.orderId, status: "FAILED" }]);

  // Someone else's coupon is refused the same way (the coupon service answers 404).
  const foreign = await place(userId, { items: [{ productId: product.id, quantity: 1 }], userCouponId: "uc-not-mine" });
  expect(foreign.status).toBe(201);
  expect(foreign.body).toMatchObject({ status: "FAILED", failureCode: "COUPON_NOT_USABLE" });
});

test("the same Idempotency-Key and body answer the first response again and place one order", async () => {
  const userId = newUser();
  const product = newProduct(2_000);
  const body = { items: [{ productId: product.id, quantity: 2 }] };
  const headers = { "idempotency-key": newKey() };
  const first = await place(userId, body, headers);
  const again = await place(userId, body, headers);
  expect(first.status).toBe(202);
  expect(again.status).toBe(202);
  expect(again.body).toEqual(first.body);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  expect(await ordersOf(userId)).toHaveLength(1);
  await probe.waitFor("OrderPlaced", (e) => e.orderId === first.body.orderId);
  await sleep(500);
  expect(probe.of("OrderPlaced", (e) => e.userId === userId)).toHaveLength(1);
});

test("concurrent first requests with one Idempotency-Key place one order, and all answer it", async () => {
  const userId = newUser();
  const product = newProduct(700);
  const headers = { "idempotency-key": newKey() };
  const responses = await Promise.all(Array.from({ length: 20 }, () => place(userId, { items: [{ productId: product.id, quantity: 1 }] }, headers)));
  expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
  expect(new Set(responses.map((r) => r.body.orderId)).size).toBe(1);
  expect(await ordersOf(userId)).toHaveLength(1);
  await probe.waitFor("OrderPlaced", (e) => e.userId === userId);
  await sleep(500);
  expect(probe.of("OrderPlaced", (e) => e.userId === userId)).toHaveLength(1);
});

test("the same Idempotency-Key with another body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing", async () => {
  const userId = newUser();
  const product = newProduct(1_500);
  const headers = { "idempotency-key": newKey() };
  const first = await place(userId, { items: [{ productId: product.id, quantity: 1 }] }, headers);
  const other = await place(userId, { items: [{ productId: product.id, quantity: 2 }] }, headers);
  expect(first.status).toBe(202);
  expect(other.status).toBe(422);
  expect(other.contentType).toContain("application/problem+json");
  expect(other.body).toMatchObject({ status: 422, code: "IDEMPOTENCY_KEY_REUSED" });
  expect(await ordersOf(userId)).toHaveLength(1);
  // Keys are per user: another user may use the same key.
  expect((await place(newUser(), { items: [{ productId: product.id, quantity: 2 }] }, headers)).status).toBe(202);
});

test("unknown products are 404 NOT_FOUND naming them; nothing is stored and the key stays free", async () => {
  const userId = newUser();
  const known = newProduct(1_000);
  const headers = { "idempotency-key": newKey() };
  const response = await place(
    userId,
    {
      items: [
        { productId: known.id, quantity: 1 },
        { productId: "no-such-product", quantity: 1 },
      ],
    },
    headers,
  );
  expect(response.status).toBe(404);
  expect(response.contentType).toContain("application/problem+json");
  expect(response.body).toMatchObject({ code: "NOT_FOUND", missingProductIds: ["no-such-product"] });
  expect(await ordersOf(userId)).toEqual([]);
  const corrected = await place(userId, { items: [{ productId: known.id, quantity: 1 }] }, headers);
  expect(corrected.status).toBe(202);
});

test("placements that arrive together are priced by shared catalog calls; one placement's unknown product fails only that one", async () => {
  const products = Array.from({ length: 30 }, (_, i) => newProduct(1_000 + i));
  const users = products.map(() => newUser());
  const quotesBefore = upstream.calls.quote;
  // A busy catalog: placements arriving while a quote is on its way wait and share the next one.
  upstream.delayMs.quote = 200;
  const [stranger, ...answers] = await Promise.all([
    place(newUser(), {
      items: [
        { productId: products[0]!.id, quantity: 1 },
        { productId: "no-such-product-here", quantity: 1 },
      ],
    }),
    ...products.map((product, i) => place(users[i]!, { items: [{ productId: product.id, quantity: 2 }] })),
  ]).finally(() => (upstream.delayMs.quote = 0));
  const quoteCalls = upstream.calls.quote - quotesBefore;

  expect(stranger.status).toBe(404);
  expect(stranger.body).toMatchObject({ code: "NOT_FOUND", missingProductIds: ["no-such-product-here"] });
  answers.forEach((answer, i) => {
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ items: [{ productId: products[i]!.id, unitPrice: 1_000 + i }], subtotal: 2 * (1_000 + i) });
  });
  // One call per placement would be 31; shared calls (and the retry without the unknown id) are far fewer.
  expect(quoteCalls).toBeLessThanOrEqual(10);
});

describe("invalid requests are 400 problem+json and store nothing", () => {
  const valid = () => ({ items: [{ productId: "p-valid", quantity: 1 }] });
  beforeAll(() => {
    upstream.addProduct({ id: "p-valid", name: "Valid", price: 100, stock: 10 });
  });

  test.each<[string, unknown, Record<string, string>?]>([
    ["no Idempotency-Key", valid(), {}],
    ["an empty Idempotency-Key", valid(), { "idempotency-key": "" }],
    ["a 256-character Idempotency-Key", valid(), { "idempotency-key": "k".repeat(256) }],
    ["no items", { items: [] }],
    ["51 items", { items: Array.from({ length: 51 }, (_, i) => ({ productId: `p-${i}`, quantity: 1 })) }],
    ["a zero quantity", { items: [{ productId: "p-valid", quantity: 0 }] }],
    ["a negative quantity", { items: [{ productId: "p-valid", quantity: -1 }] }],
    ["a fractional quantity", { items: [{ productId: "p-valid", quantity: 1.5 }] }],
    ["a quantity as a string", { items: [{ productId: "p-valid", quantity: "2" }] }],
    ["a quantity over 1000", { items: [{ productId: "p-valid", quantity: 1001 }] }],
    ["a missing quantity", { items: [{ productId: "p-valid" }] }],
    [
      "a product twice",
      {
        items: [
          { productId: "p-valid", quantity: 1 },
          { productId: "p-valid", quantity: 2 },
        ],
      },
    ],
    ["a client-side price", { items: [{ productId: "p-valid", quantity: 1, unitPrice: 1 }] }],
    ["an unknown field", { ...valid(), totalAmount: 1 }],
    ["a malformed coupon id", { ...valid(), userCouponId: "../admin" }],
    ["a body that is not an object", [1, 2]],
    ["Prefer: wait over 10 seconds", valid(), { "idempotency-key": "k", prefer: "wait=11" }],
    ["Prefer: wait that is not a number", valid(), { "idempotency-key": "k", prefer: "wait=soon" }],
  ])("%s", async (_label, body, headers = { "idempotency-key": newKey() }) => {
    const userId = newUser("bad");
    const quotesBefore = upstream.calls.quote;
    const response = await place(userId, body, headers);
    expect(response.status).toBe(400);
    expect(response.contentType).toContain("application/problem+json");
    expect(response.body).toMatchObject({ status: 400, code: "VALIDATION_FAILED" });
    expect(response.body.errors.length).toBeGreaterThan(0);
    expect(typeof response.body.traceId).toBe("string");
    expect(await ordersOf(userId)).toEqual([]);
    expect(await db.query("SELECT 1 FROM idempotent_requests WHERE user_id = $1", [userId])).toEqual([]);
    expect(upstream.calls.quote).toBe(quotesBefore);
  });

  test("malformed JSON, a bad user id and a bad order id", async () => {
    const broken = await place(newUser(), "{items: [", { "idempotency-key": newKey() });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe("VALIDATION_FAILED");
    expect((await place("x".repeat(65), valid())).status).toBe(400);
    expect((await call("GET", `/api/v1/users/${newUser()}/orders/bad%20id`)).status).toBe(400);
    const missingKey = await place(newUser(), valid(), {});
    expect(missingKey.body.errors).toEqual([expect.objectContaining({ field: "header.idempotency-key" })]);
    const twice = await place(newUser(), {
      items: [
        { productId: "p-valid", quantity: 1 },
        { productId: "p-valid", quantity: 1 },
      ],
    });
    expect(twice.body.errors).toEqual([expect.objectContaining({ field: "body.items.1.productId" })]);
    const tooLongWait = await place(newUser(), valid(), { "idempotency-key": newKey(), prefer: "wait=30" });
    expect(tooLongWait.body.errors).toEqual([expect.objectContaining({ field: "header.prefer", message: "wait must be at most 10 seconds" })]);
  });
});

test("orders are listed newest first, a page at a time; another user's order is 404", async () => {
  const userId = newUser();
  const product = newProduct(100);
  const ids: string[] = [];
  for (let quantity = 1; quantity <= 5; quantity++) ids.push((await place(userId, { items: [{ productId: product.id, quantity }] })).body.orderId);
  const first = await call("GET", `/api/v1/users/${userId}/orders?limit=2`);
  expect(first.status).toBe(200);
  expect(first.body.items.map((o: { orderId: string }) => o.orderId)).toEqual([ids[4], ids[3]]);
  const rest = await call("GET", `/api/v1/users/${userId}/orders?limit=10&cursor=${first.body.nextCursor}`);
  expect(rest.body.items.map((o: { orderId: string }) => o.orderId)).toEqual([ids[2], ids[1], ids[0]]);
  expect(rest.body.nextCursor).toBeNull();
  // A sequence number (what a cursor used to be, and then an empty page) or an edited cursor is refused like any invalid input.
  for (const bad of ["limit=0", "limit=101", "cursor=abc", "cursor=1", `cursor=${first.body.nextCursor}x`, "other=1"]) {
    expect({ bad, status: (await call("GET", `/api/v1/users/${userId}/orders?${bad}`)).status }).toEqual({ bad, status: 400 });
  }

  const stranger = await call("GET", `/api/v1/users/${newUser()}/orders/${ids[0]}`);
  expect(stranger.status).toBe(404);
  expect(stranger.body.code).toBe("NOT_FOUND");
  expect((await call("GET", `/api/v1/users/${userId}/orders/no-such-order`)).status).toBe(404);
});

test("a catalog outage is 503 SERVICE_UNAVAILABLE, stores nothing, and the circuit lets orders through once it is back", async () => {
  const userId = newUser();
  const product = newProduct(900);
  const body = { items: [{ productId: product.id, quantity: 1 }] };
  upstream.down.catalog = true;
  try {
    // Fail until the circuit opens: then a call no longer reaches the catalog at all.
    let opened = false;
    for (let attempt = 0; attempt < 100 && !opened; attempt++) {
      const quotesBefore = upstream.calls.quote;
      const answer = await place(userId, body);
      expect(answer.status).toBe(503);
      expect(answer.contentType).toContain("application/problem+json");
      expect(answer.body).toMatchObject({ code: "SERVICE_UNAVAILABLE", dependency: "catalog" });
      opened = upstream.calls.quote === quotesBefore;
    }
    expect(opened).toBe(true);
    const metrics = await (await fetch(`${order.url}/metrics`)).text();
    expect(metricValue(metrics, "order_upstream_circuit_open", { service: "order", upstream: "catalog" })).toBe(1);
    expect(metricValue(metrics, "order_upstream_circuit_open", { service: "order", upstream: "coupon" })).toBe(0);
  } finally {
    upstream.down.catalog = false;
  }
  expect(await ordersOf(userId)).toEqual([]);
  await eventually(async () => expect((await place(userId, body)).status).toBe(202), 5_000, 100);
});

test("a coupon outage fails only orders with a coupon (503); orders without one go through", async () => {
  const userId = newUser();
  const product = newProduct(1_200);
  upstream.addCoupon({ userCouponId: `uc-down-${userId}`, couponId: "c-4", userId, discountAmount: 100, usable: true });
  const withCouponBody = { items: [{ productId: product.id, quantity: 1 }], userCouponId: `uc-down-${userId}` };
  const key = { "idempotency-key": newKey() };
  upstream.down.coupon = true;
  try {
    const withCoupon = await place(userId, withCouponBody, key);
    expect(withCoupon.status).toBe(503);
    expect(withCoupon.body).toMatchObject({ code: "SERVICE_UNAVAILABLE", dependency: "coupon" });
    const without = await place(userId, { items: [{ productId: product.id, quantity: 1 }] });
    expect(without.status).toBe(202);
  } finally {
    upstream.down.coupon = false;
  }
  expect(await ordersOf(userId)).toHaveLength(1);
  // The retry with the same key places the order under the id the failed attempt used, so a
  // reservation the coupon service may have made for that attempt is the one this order holds.
  const [claim] = await db.query<{ order_id: string }>("SELECT order_id FROM idempotent_requests WHERE user_id = $1 AND key = $2", [
    userId,
    key["idempotency-key"],
  ]);
  const attemptedOrderId = claim!.order_id;
  const retried = await eventually(
    async () => {
      const answer = await place(userId, withCouponBody, key);
      expect(answer.status).toBe(202);
      return answer;
    },
    5_000,
    100,
  );
  expect(retried.body).toMatchObject({ orderId: attemptedOrderId, discountAmount: 100, totalAmount: 1_100 });
  expect(upstream.reservations.get(`uc-down-${userId}`)).toBe(attemptedOrderId);
});

test("health, readiness, metrics and the OpenAPI document", async () => {
  expect((await call("GET", "/healthz")).status).toBe(200);
  expect((await call("GET", "/readyz")).status).toBe(200);
  expect(await (await fetch(`${order.url}/metrics`)).text()).toContain("http_request_duration_seconds");
  const doc = await call("GET", "/openapi.json");
  expect(doc.body.paths["/api/v1/users/{userId}/orders"].post.parameters).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: "Idempotency-Key", in: "header", required: true }),
      expect.objectContaining({ name: "Prefer", in: "header", required: false }),
    ]),
  );
  expect(doc.body.paths["/api/v1/users/{userId}/orders/{orderId}"].get).toBeDefined();
});

test("placement proves itself to the catalog and the coupon service; a refused credential is an outage, never a verdict on the coupon", async () => {
  const userId = newUser();
  const product = newProduct(2_000);
  upstream.addCoupon({ userCouponId: `uc-cred-${userId}`, couponId: "c-9", userId, discountAmount: 100, usable: true });
  const refusedBefore = upstream.calls.refused;
  expect((await place(userId, { items: [{ productId: product.id, quantity: 1 }], userCouponId: `uc-cred-${userId}` })).status).toBe(202);
  expect(upstream.calls.refused).toBe(refusedBefore);

  const misconfigured = await startOrderService(db, upstream, { EVENTS_ENABLED: "false", SERVICE_TOKEN_SECRET: "not-the-secret-the-upstreams-know" });
  try {
    const viaMisconfigured = httpClient(() => misconfigured.url);
    const answer = await viaMisconfigured(
      "POST",
      `/api/v1/users/${userId}/orders`,
      { items: [{ productId: product.id, quantity: 1 }] },
      { "idempotency-key": newKey() },
    );
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: "SERVICE_UNAVAILABLE", dependency: "catalog" });
    expect(upstream.calls.refused).toBeGreaterThan(refusedBefore);
  } finally {
    await misconfigured.stop();
  }
  expect(await ordersOf(userId)).toHaveLength(1);
});
