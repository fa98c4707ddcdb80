// The HTTP contract: campaigns, issuing rules, problem+json for every bad input, and the edges.
import { randomBytes, randomUUID } from "node:crypto";
import { eventually } from "@shop/testing";
import { campaignBody, createCampaign, issue, sleep, startCouponFixture, type CouponFixture } from "./support.ts";

const REDIS_DB = 10;

let f: CouponFixture;

beforeAll(async () => {
  f = await startCouponFixture("coupon-http", REDIS_DB);
});
afterAll(async () => {
  await f?.stop();
});

const newUser = () => `http-${randomBytes(4).toString("hex")}`;
const countCampaigns = async () => Number((await f.db.query<{ n: string }>("SELECT count(*)::text AS n FROM coupons"))[0]!.n);
const countUserCoupons = async () => Number((await f.db.query<{ n: string }>("SELECT count(*)::text AS n FROM user_coupons"))[0]!.n);

function expectProblem(response: { status: number; contentType: string; body: Record<string, unknown> }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.contentType).toContain("application/problem+json");
  expect(response.body).toMatchObject({ status, code });
  expect(typeof response.body.type).toBe("string");
  expect(typeof response.body.title).toBe("string");
  expect(typeof response.body.detail).toBe("string");
  expect(typeof response.body.traceId).toBe("string");
}

test("a created campaign is returned, readable by id and listed as open", async () => {
  const response = await f.client.post(
    "/api/v1/admin/coupons",
    campaignBody({
      name: "Welcome 3000",
      discountType: "FIXED",
      discountValue: 3000,
      maxDiscountAmount: undefined,
      minOrderAmount: 10000,
      totalQuantity: 50,
      validForDays: 30,
    }),
  );
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({
    name: "Welcome 3000",
    discountType: "FIXED",
    discountValue: 3000,
    maxDiscountAmount: null,
    minOrderAmount: 10000,
    totalQuantity: 50,
    issuedQuantity: 0,
    remainingQuantity: 50,
    issueEndsAt: null,
    validForDays: 30,
  });
  expect(Math.abs(Date.parse(response.body.issueStartsAt) - Date.now())).toBeLessThan(10_000);
  const byId = await f.client.get(`/api/v1/coupons/${response.body.id}`);
  expect(byId.status).toBe(200);
  expect(byId.body).toEqual(response.body);
  const open = await f.client.get("/api/v1/coupons");
  expect(open.status).toBe(200);
  expect(open.body.items.map((c: { id: string }) => c.id)).toContain(response.body.id);
});

test("an issued coupon is durable, listed for its user, and expires validForDays after issue", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 10, validForDays: 3 });
  const userId = newUser();
  const response = await issue(f.client, userId, campaign.id);
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ couponId: campaign.id, userId, status: "AVAILABLE" });
  const days = (Date.parse(response.body.expiresAt) - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(2.99);
  expect(days).toBeLessThanOrEqual(3);
  expect(await f.db.query("SELECT user_id FROM user_coupons WHERE id = $1", [response.body.userCouponId])).toEqual([{ user_id: userId }]);
  const mine = await f.client.get(`/api/v1/users/${userId}/coupons`);
  expect(mine.body).toEqual({
    items: [
      {
        userCouponId: response.body.userCouponId,
        couponId: campaign.id,
        name: campaign.name,
        discountType: "PERCENT",
        discountValue: 10,
        status: "AVAILABLE",
        expiresAt: response.body.expiresAt,
      },
    ],
  });
  expectProblem(await issue(f.client, userId, campaign.id), 409, "COUPON_ALREADY_ISSUED");
  expect((await f.client.get(`/api/v1/coupons/${campaign.id}`)).body).toMatchObject({ issuedQuantity: 1, remainingQuantity: 9 });
});

test("a campaign that has not started is COUPON_NOT_ACTIVE and not listed", async () => {
  const campaign = await createCampaign(f.client, { issueStartsAt: new Date(Date.now() + 3_600_000).toISOString() });
  expectProblem(await issue(f.client, newUser(), campaign.id), 409, "COUPON_NOT_ACTIVE");
  expect((await f.client.get("/api/v1/coupons")).body.items.map((c: { id: string }) => c.id)).not.toContain(campaign.id);
  expect((await f.client.get(`/api/v1/coupons/${campaign.id}`)).body.issuedQuantity).toBe(0);
});

test("a campaign whose window has ended is COUPON_NOT_ACTIVE and no longer listed", async () => {
  const endsAt = Date.now() + 1500;
  const campaign = await createCampaign(f.client, { issueEndsAt: new Date(endsAt).toISOString() });
  expect((await issue(f.client, newUser(), campaign.id)).status).toBe(201);
  await sleep(endsAt - Date.now() + 50);
  expectProblem(await issue(f.client, newUser(), campaign.id), 409, "COUPON_NOT_ACTIVE");
  expect((await f.client.get("/api/v1/coupons")).body.items.map((c: { id: string }) => c.id)).not.toContain(campaign.id);
  expect((await f.client.get(`/api/v1/coupons/${campaign.id}`)).body.issuedQuantity).toBe(1);
});

test("a sold-out campaign is not listed as open", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 1 });
  expect((await issue(f.client, newUser(), campaign.id)).status).toBe(201);
  expectProblem(await issue(f.client, newUser(), campaign.id), 409, "COUPON_SOLD_OUT");
  expect((await f.client.get("/api/v1/coupons")).body.items.map((c: { id: string }) => c.id)).not.toContain(campaign.id);
});

test("an unknown campaign is 404 for issuing and reading, and nothing is written", async () => {
  const before = await countUserCoupons();
  const unknown = randomUUID();
  expectProblem(await issue(f.client, newUser(), unknown), 404, "NOT_FOUND");
  expectProblem(await issue(f.client, newUser(), unknown), 404, "NOT_FOUND"); // answered from the short-lived negative cache
  expectProblem(await f.client.get(`/api/v1/coupons/${unknown}`), 404, "NOT_FOUND");
  expect(await countUserCoupons()).toBe(before);
});

test("a failed database write answers 503, frees the admitted place, and a retry can succeed", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 1 });
  // A real write failure: PostgreSQL rejects this user's row.
  await f.db.query("ALTER TABLE user_coupons ADD CONSTRAINT reject_doomed CHECK (user_id NOT LIKE 'doomed-%')");
  const doomed = `doomed-${randomBytes(3).toString("hex")}`;
  try {
    expectProblem(await issue(f.client, doomed, campaign.id), 503, "COUPON_ISSUE_UNAVAILABLE");
  } finally {
    await f.db.query("ALTER TABLE user_coupons DROP CONSTRAINT reject_doomed");
  }
  expect(await f.redis.sismember(`${f.keyPrefix}{${campaign.id}}:users`, doomed)).toBe(0);
  expect((await f.client.get(`/api/v1/coupons/${campaign.id}`)).body.issuedQuantity).toBe(0);
  // The single place was given back: the same user (or anyone) can take it now.
  expect((await issue(f.client, doomed, campaign.id)).status).toBe(201);
  expectProblem(await issue(f.client, newUser(), campaign.id), 409, "COUPON_SOLD_OUT");
});

const badCampaigns: [string, unknown][] = [
  ["unknown discount type", campaignBody({ discountType: "HALF" })],
  ["PERCENT of 0", campaignBody({ discountValue: 0 })],
  ["PERCENT over 100", campaignBody({ discountValue: 101 })],
  ["FIXED of 0", campaignBody({ discountType: "FIXED", discountValue: 0 })],
  ["negative FIXED", campaignBody({ discountType: "FIXED", discountValue: -1000 })],
  ["fractional FIXED", campaignBody({ discountType: "FIXED", discountValue: 1000.5 })],
  ["FIXED as a string", campaignBody({ discountType: "FIXED", discountValue: "1000" })],
  ["absurd FIXED", campaignBody({ discountType: "FIXED", discountValue: 1e15 })],
  ["zero quantity", campaignBody({ totalQuantity: 0 })],
  ["absurd quantity", campaignBody({ totalQuantity: 1_000_001 })],
  ["fractional quantity", campaignBody({ totalQuantity: 10.5 })],
  ["zero validity", campaignBody({ validForDays: 0 })],
  ["missing validity", { ...campaignBody(), validForDays: undefined }],
  ["missing name", { ...campaignBody(), name: undefined }],
  ["blank name", campaignBody({ name: "   " })],
  ["overlong name", campaignBody({ name: "x".repeat(101) })],
  ["zero minimum order", campaignBody({ minOrderAmount: 0 })],
  ["negative cap", campaignBody({ maxDiscountAmount: -1 })],
  ["date that is not ISO", campaignBody({ issueStartsAt: "tomorrow" })],
  ["date without a time zone", campaignBody({ issueStartsAt: "2030-01-01T10:00:00" })],
  ["end before start", campaignBody({ issueStartsAt: "2030-01-02T00:00:00Z", issueEndsAt: "2030-01-01T00:00:00Z" })],
  ["end in the past", campaignBody({ issueStartsAt: "2020-01-01T00:00:00Z", issueEndsAt: "2020-01-02T00:00:00Z" })],
  ["unknown field", campaignBody({ currency: "USD" })],
  ["array body", [campaignBody()]],
  ["null body", null],
];

test.each(badCampaigns)("creating a campaign with %s is a 400 problem+json and creates nothing", async (_label, body) => {
  const before = await countCampaigns();
  const response = await f.client.post("/api/v1/admin/coupons", body === null ? "null" : body);
  expectProblem(response, 400, "VALIDATION_FAILED");
  expect(response.body.errors.length).toBeGreaterThan(0);
  expect(await countCampaigns()).toBe(before);
});

test("a cross-field violation names its field", async () => {
  const response = await f.client.post("/api/v1/admin/coupons", campaignBody({ discountValue: 150 }));
  expect(response.body.errors).toEqual([{ field: "body.discountValue", message: "a PERCENT discount must be between 1 and 100" }]);
});

test("bad issue requests are 400 problem+json and issue nothing", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 5 });
  const before = await countUserCoupons();
  const cases: [string, unknown][] = [
    [`/api/v1/users/${newUser()}/coupons`, { couponId: "not-a-uuid" }],
    [`/api/v1/users/${newUser()}/coupons`, {}],
    [`/api/v1/users/${newUser()}/coupons`, { couponId: campaign.id, extra: 1 }],
    [`/api/v1/users/${newUser()}/coupons`, { couponId: 42 }],
    [`/api/v1/users/${newUser()}/coupons`, "{couponId:"],
    [`/api/v1/users/${"x".repeat(65)}/coupons`, { couponId: campaign.id }],
    [`/api/v1/users/bad%20user/coupons`, { couponId: campaign.id }],
  ];
  for (const [path, body] of cases) expectProblem(await f.client.post(path, body), 400, "VALIDATION_FAILED");
  expect(await countUserCoupons()).toBe(before);
  expect((await f.client.get(`/api/v1/coupons/${campaign.id}`)).body.issuedQuantity).toBe(0);
});

test("bad reads are 400 problem+json", async () => {
  expectProblem(await f.client.get("/api/v1/coupons/not-a-uuid"), 400, "VALIDATION_FAILED");
  expectProblem(await f.client.get("/api/v1/coupons?limit=5"), 400, "VALIDATION_FAILED");
  expectProblem(await f.client.get(`/api/v1/users/${"x".repeat(65)}/coupons`), 400, "VALIDATION_FAILED");
  expectProblem(await f.client.get(`/api/v1/users/${newUser()}/coupons?status=USED`), 400, "VALIDATION_FAILED");
  expect((await f.client.get(`/api/v1/users/${newUser()}/coupons`)).body).toEqual({ items: [] });
});

test("bad reservation requests are 400 problem+json and reserve nothing", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 5 });
  const userId = newUser();
  const issued = (await issue(f.client, userId, campaign.id)).body;
  const path = `/internal/v1/user-coupons/${issued.userCouponId}/reservations`;
  const good = { userId, orderId: randomUUID(), orderAmount: 10_000 };
  const cases: [string, unknown][] = [
    ["/internal/v1/user-coupons/not-a-uuid/reservations", good],
    [path, { ...good, orderAmount: 0 }],
    [path, { ...good, orderAmount: -5 }],
    [path, { ...good, orderAmount: 99.5 }],
    [path, { ...good, orderAmount: "10000" }],
    [path, { ...good, orderAmount: 1e13 }],
    [path, { ...good, orderAmount: undefined }],
    [path, { ...good, userId: "bad user" }],
    [path, { ...good, orderId: "" }],
    [path, { ...good, orderId: "o".repeat(129) }],
    [path, { ...good, extra: true }],
    [path, "not json"],
  ];
  for (const [p, body] of cases) expectProblem(await f.client.post(p, body), 400, "VALIDATION_FAILED");
  expect((await f.client.get(`/api/v1/users/${userId}/coupons`)).body.items[0].status).toBe("AVAILABLE");
  expect(await f.db.query("SELECT 1 FROM coupon_reservations")).toHaveLength(0);
});

test("health, readiness, metrics, and an OpenAPI document without the internal endpoints", async () => {
  expect((await f.client.get("/healthz")).status).toBe(200);
  await eventually(async () => expect((await f.client.get("/readyz")).status).toBe(200));
  const metrics = await f.client.get("/metrics");
  expect(String(metrics.body)).toContain("http_request_duration_seconds");
  const doc = (await f.client.get("/openapi.json")).body;
  expect(doc.openapi).toBe("3.1.0");
  expect(Object.keys(doc.paths).sort()).toEqual(["/api/v1/admin/coupons", "/api/v1/coupons", "/api/v1/coupons/{couponId}", "/api/v1/users/{userId}/coupons"]);
  expect(doc.paths["/api/v1/users/{userId}/coupons"].post.responses["409"].description).toContain("COUPON_SOLD_OUT");
  expectProblem(await f.client.get("/nope"), 404, "NOT_FOUND");
});
