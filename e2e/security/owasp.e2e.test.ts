// Attacks on the whole system, organised by the OWASP API Security Top 10 (2023): through the
// gateway as an anonymous client or a user, on raw sockets where the bytes matter (smuggling,
// parser errors), and straight at the services as a pod inside the cluster would. Each attack is
// followed by a look, as the admin and the victim would take it, at what it was after.
// See docs/security.md for the threat model and what is left uncovered.
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { SignJWT, exportJWK } from "jose";
import { topicOf } from "@shop/events";
import { createKafka } from "@shop/kafka";
import { eventually, signServiceToken, signToken, silentLogger, testInfra, testJwt } from "@shop/testing";
import { ApiClient } from "../support/api.ts";
import { Shop } from "../support/fixtures.ts";
import { operationsOf } from "../support/security/fuzz.ts";
import { headerOf, jsonOf, rawExchange, send, type Answer } from "../support/security/http.ts";
import { preview, problemSummary } from "../support/security/problems.ts";
import { forgedTokens } from "../support/security/world.ts";
import { startTestSystem, type ServiceName, type TestSystem } from "../support/system.ts";

const E2E_TIMEOUT_MS = 120_000;
const ALLOWED_ORIGIN = "https://shop.example";
/** The anonymous limit is tight here so that it can be seen working; each test group below is its own client. */
const ANON_PER_SECOND = 20;
const ANON_BURST = 40;
const WRITES_PER_SECOND = 5;
const WRITE_BURST = 10;
/** Loopback source addresses: to the gateway's per-address limit each one is a different client. */
const CLIENT = {
  smuggler: "127.0.0.11",
  edge: "127.0.0.12",
  inventory: "127.0.0.13",
  ssrf: "127.0.0.14",
  other: "127.0.0.15",
  flooder: "127.0.0.60",
  bystander: "127.0.0.61",
};
/** A smuggled request runs on the service right after the outer one: this is ample time for it to have done its harm. */
const SMUGGLE_SETTLE_MS = 300;

interface Fixtures {
  victimId: string;
  productId: string;
  couponId: string;
  /** A campaign the victim does not hold: an issue of it would show. */
  spareCouponId: string;
  userCouponId: string;
  orderId: string;
}

let system: TestSystem;
let shop: Shop;
let ids: Fixtures;
let initial: Awaited<ReturnType<typeof victimState>>;

beforeAll(async () => {
  system = await startTestSystem({
    perService: {
      gateway: {
        CORS_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
        ANON_RATE_LIMIT_PER_SECOND: String(ANON_PER_SECOND),
        ANON_RATE_LIMIT_BURST: String(ANON_BURST),
        RATE_LIMIT_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
        RATE_LIMIT_BURST: String(WRITE_BURST),
      },
    },
  });
  shop = await Shop.at(system.gatewayUrl);
  const product = await shop.product({ name: "Guarded", price: 10_000, stock: 10 });
  const bought = await shop.product({ name: "Bought", price: 2_000, stock: 10 });
  const [couponId, spareCouponId] = [await shop.percentCoupon(10), await shop.percentCoupon(15)];
  const victim = await ApiClient.as(system.gatewayUrl, "sec-victim");
  expect((await victim.charge(50_000)).status).toBe(201);
  const userCouponId = await Shop.issue(victim, couponId);
  const placed = await victim.order([{ productId: bought.id, quantity: 1 }], { wait: 10 });
  expect(placed.body.status).toBe("COMPLETED");
  ids = { victimId: victim.userId, productId: product.id, couponId, spareCouponId, userCouponId, orderId: placed.body.orderId };
  await eventually(async () => expect(await shop.stockOf(bought.id)).toBe(9), 10_000);
  initial = await victimState();
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await system?.stop();
}, E2E_TIMEOUT_MS);

/** Everything the attacks below are after, as the admin sees it. */
async function victimState() {
  const read = async (path: string) => {
    const response = await shop.admin.get(path);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const user = `/users/${ids.victimId}`;
  return {
    product: await read(`/products/${ids.productId}`),
    balance: await read(`${user}/balance`),
    history: await read(`${user}/balance/history`),
    coupons: await read(`${user}/coupons`),
    orders: await read(`${user}/orders`),
    payments: await read(`${user}/payments`),
    campaign: await read(`/coupons/${ids.couponId}`),
    spareCampaign: await read(`/coupons/${ids.spareCouponId}`),
  };
}
const expectNothingChanged = async () => expect(await victimState()).toEqual(initial);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bearer = async (sub: string, roles: string[] = []) => `Bearer ${await signToken({ sub, roles })}`;

interface Call {
  method: string;
  path: string;
  authorization?: string;
  headers?: Record<string, string | string[]>;
  /** An object is sent as JSON. */
  body?: unknown;
  from?: string;
}

function call(baseUrl: string, { method, path, authorization, headers = {}, body, from }: Call): Promise<Answer> {
  const all: Record<string, string | string[]> = { ...headers };
  if (authorization !== undefined) all.authorization = authorization;
  let payload: string | Buffer | undefined;
  if (body !== undefined) {
    payload = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    all["content-type"] ??= "application/json";
  }
  return send(baseUrl, { method, path, headers: all, body: payload, localAddress: from ?? CLIENT.other });
}
const viaGateway = (request: Call) => call(system.gatewayUrl, request);
const direct = (service: ServiceName, request: Call) => call(system.serviceUrls[service], request);

/**
 * A refusal as the contract wants it: one of `statuses`, one of `codes` (when given), and a
 * problem+json body. Compared in one piece so that a failure shows everything, the body included.
 */
function expectRefusal(answer: Answer, statuses: number | number[], codes?: string | string[], options: { headRequest?: boolean } = {}): void {
  const allowedStatuses = [statuses].flat();
  const allowedCodes = codes === undefined ? undefined : [codes].flat();
  const summary = problemSummary(answer, options);
  const statusOk = allowedStatuses.includes(summary.status);
  const codeOk = allowedCodes === undefined || allowedCodes.includes(summary.code as string);
  const ok = statusOk && codeOk && summary.issues.length === 0;
  expect({
    status: statusOk ? allowedStatuses : summary.status,
    code: codeOk ? allowedCodes : summary.code,
    issues: summary.issues,
    ...(ok ? {} : { answer: preview(answer.text) }),
  }).toEqual({
    status: allowedStatuses,
    code: allowedCodes,
    issues: [],
  });
}

// --- API1 -------------------------------------------------------------------------------------

/** The user-scoped routes of each service, with a body that would succeed for the path's user. */
const userRoutes = (f: Fixtures): Array<{ service: ServiceName; method: string; path: string; body?: unknown; headers?: Record<string, string> }> => [
  { service: "wallet", method: "GET", path: `/api/v1/users/${f.victimId}/balance` },
  { service: "wallet", method: "GET", path: `/api/v1/users/${f.victimId}/balance/history` },
  { service: "wallet", method: "POST", path: `/api/v1/users/${f.victimId}/balance/charges`, body: { amount: 1_000_000 } },
  { service: "coupon", method: "GET", path: `/api/v1/users/${f.victimId}/coupons` },
  { service: "coupon", method: "POST", path: `/api/v1/users/${f.victimId}/coupons`, body: { couponId: f.spareCouponId } },
  { service: "order", method: "GET", path: `/api/v1/users/${f.victimId}/orders` },
  { service: "order", method: "GET", path: `/api/v1/users/${f.victimId}/orders/${f.orderId}` },
  {
    service: "order",
    method: "POST",
    path: `/api/v1/users/${f.victimId}/orders`,
    body: { items: [{ productId: f.productId, quantity: 1 }] },
    headers: { "idempotency-key": randomUUID() },
  },
  { service: "payment", method: "GET", path: `/api/v1/users/${f.victimId}/payments` },
];
const USER_ROUTE_NAMES = [
  "wallet balance",
  "wallet history",
  "wallet charge",
  "coupon list",
  "coupon issue",
  "order list",
  "order detail",
  "order placement",
  "payment list",
];

describe("API1:2023 Broken Object Level Authorization", () => {
  test.each(USER_ROUTE_NAMES.map((name, index) => [name, index] as const))(
    "through the gateway, another user's token on the victim's %s: 403",
    async (_name, index) => {
      const route = userRoutes(ids)[index]!;
      const answer = await viaGateway({ ...route, authorization: await bearer("sec-bola-attacker") });
      expectRefusal(answer, 403, "FORBIDDEN");
    },
  );

  test.each(USER_ROUTE_NAMES.map((name, index) => [name, index] as const))(
    "straight to the service, another user's token on the victim's %s: 403",
    async (_name, index) => {
      const route = userRoutes(ids)[index]!;
      const answer = await direct(route.service, { ...route, authorization: await bearer("sec-bola-attacker") });
      expectRefusal(answer, 403, "FORBIDDEN");
    },
  );

  test("the victim's order, payment and coupon ids under the attacker's own path are not found", async () => {
    const attacker = "sec-bola-own-path";
    const authorization = await bearer(attacker);
    expectRefusal(await viaGateway({ method: "GET", path: `/api/v1/users/${attacker}/orders/${ids.orderId}`, authorization }), 404, "NOT_FOUND");
    const payments = await viaGateway({ method: "GET", path: `/api/v1/users/${attacker}/payments?orderId=${ids.orderId}`, authorization });
    expect({ status: payments.status, body: jsonOf(payments) }).toEqual({ status: 200, body: { items: [] } });
    const coupons = await viaGateway({ method: "GET", path: `/api/v1/users/${attacker}/coupons`, authorization });
    expect({ status: coupons.status, body: jsonOf(coupons) }).toEqual({ status: 200, body: { items: [] } });
  });

  test.each([
    ["dot segments", (a: string, v: string) => `/api/v1/users/${a}/../${v}/balance`],
    ["encoded dot segments", (a: string, v: string) => `/api/v1/users/${a}/%2e%2e/${v}/balance`],
    ["encoded slashes", (a: string, v: string) => `/api/v1/users/${a}%2f..%2f${v}/balance`],
    ["a double slash", (a: string, v: string) => `/api/v1/users/${a}//${v}/balance`],
    ["a backslash", (a: string, v: string) => `/api/v1/users/${a}\\..\\${v}/balance`],
  ])("a path that walks from the attacker's user to the victim's (%s) is refused", async (_name, pathOf) => {
    const attacker = "sec-bola-walker";
    const answer = await viaGateway({ method: "GET", path: pathOf(attacker, ids.victimId), authorization: await bearer(attacker) });
    expectRefusal(answer, [400, 403, 404]);
  });

  test("after all of it, the victim's balance, ledger, coupons, orders and payments are unchanged", expectNothingChanged);
});

// --- API2 -------------------------------------------------------------------------------------

/** Credentials that must never authenticate anyone, each claiming the victim (or an admin). */
const FORGERIES: Array<[string, () => Promise<string>]> = [
  ["alg none", async () => `Bearer ${forgedTokens.unsigned(ids.victimId, ["admin"])}`],
  ["RS256 header over an HMAC (algorithm confusion)", async () => `Bearer ${await forgedTokens.algorithmConfusion(ids.victimId)}`],
  ["a wrong secret", async () => `Bearer ${await forgedTokens.wrongSecret(ids.victimId, ["admin"])}`],
  ["a wrong issuer", async () => `Bearer ${await forgedTokens.wrongIssuer(ids.victimId)}`],
  ["a wrong audience", async () => `Bearer ${await forgedTokens.wrongAudience(ids.victimId)}`],
  ["an expired token", async () => `Bearer ${await forgedTokens.expired(ids.victimId)}`],
  ["a subject that is not a user id", async () => `Bearer ${await forgedTokens.badSubject()}`],
  ["the service-credential secret", async () => `Bearer ${await forgedTokens.userTokenWithServiceSecret(ids.victimId)}`],
  ["a service credential", async () => `Bearer ${await signServiceToken("order")}`],
  ["the Basic scheme", async () => `Basic ${Buffer.from(`${ids.victimId}:password`).toString("base64")}`],
  ["an empty Bearer", async () => "Bearer "],
  ["garbage", async () => "Bearer not.a.jwt"],
];

describe("API2:2023 Broken Authentication", () => {
  test.each(FORGERIES)("through the gateway, a token with %s: 401 with a Bearer challenge", async (_name, forge) => {
    const answer = await viaGateway({ method: "GET", path: `/api/v1/users/${ids.victimId}/balance`, authorization: await forge() });
    expectRefusal(answer, 401, "UNAUTHORIZED");
    expect(headerOf(answer, "www-authenticate")).toMatch(/^Bearer\b/);
  });

  test.each(FORGERIES)("straight to the wallet, a token with %s: 401", async (_name, forge) => {
    const answer = await direct("wallet", {
      method: "POST",
      path: `/api/v1/users/${ids.victimId}/balance/charges`,
      authorization: await forge(),
      body: { amount: 1_000 },
    });
    expectRefusal(answer, 401, "UNAUTHORIZED");
  });

  test.each(USER_ROUTE_NAMES.map((name, index) => [name, index] as const))(
    "straight to the service, the victim's %s without a token, or with the gateway's identity headers instead of one: 401",
    async (_name, index) => {
      const route = userRoutes(ids)[index]!;
      expectRefusal(await direct(route.service, route), 401, "UNAUTHORIZED");
      const spoofed = await direct(route.service, { ...route, headers: { ...route.headers, "x-user-id": ids.victimId, "x-user-roles": "admin" } });
      expectRefusal(spoofed, 401, "UNAUTHORIZED");
    },
  );

  test("two Authorization headers, in either order, are refused with 400 before anything is charged", async () => {
    const attacker = "sec-two-headers";
    const valid = await bearer(attacker);
    const charge = (first: string, second: string) =>
      rawExchange(
        system.gatewayUrl,
        [
          `POST /api/v1/users/${attacker}/balance/charges HTTP/1.1`,
          "Host: 127.0.0.1",
          `Authorization: ${first}`,
          `Authorization: ${second}`,
          "Content-Type: application/json",
          "Content-Length: 15",
          "",
          '{"amount":1000}',
        ].join("\r\n"),
        { localAddress: CLIENT.other },
      );
    for (const [first, second] of [
      [valid, "Bearer garbage"],
      ["Bearer garbage", valid],
      [valid, valid],
    ] as const) {
      const { responses, raw } = await charge(first, second);
      expect({ count: responses.length, raw: responses.length === 1 ? "" : preview(raw) }).toEqual({ count: 1, raw: "" });
      expectRefusal(responses[0]!, 400, "MALFORMED_REQUEST");
    }
    const balance = await viaGateway({ method: "GET", path: `/api/v1/users/${attacker}/balance`, authorization: valid });
    expect(jsonOf(balance)).toEqual({ userId: attacker, balance: 0 });
  });

  test("after all of it, nothing of the victim's changed", expectNothingChanged);
});

// --- API3 -------------------------------------------------------------------------------------

describe("API3:2023 Broken Object Property Level Authorization", () => {
  test.each([
    ["a product's id on creation", "POST", "/api/v1/admin/products", { name: "Mine", price: 1_000, stock: 1, id: "chosen-id" }, "admin"],
    ["a product's stock by value instead of a delta", "PATCH", "/api/v1/admin/products/{productId}", { stock: 999_999 }, "admin"],
    [
      "a campaign's issued quantity",
      "POST",
      "/api/v1/admin/coupons",
      { name: "x", discountType: "FIXED", discountValue: 100, totalQuantity: 10, validForDays: 1, issuedQuantity: 10 },
      "admin",
    ],
    ["the balance alongside a charge", "POST", "/api/v1/users/{self}/balance/charges", { amount: 1, balance: 1_000_000 }, "user"],
    ["a unit price in an order line", "POST", "/api/v1/users/{self}/orders", { items: [{ productId: "{productId}", quantity: 1, unitPrice: 1 }] }, "user"],
    ["an order's total", "POST", "/api/v1/users/{self}/orders", { items: [{ productId: "{productId}", quantity: 1 }], totalAmount: 1 }, "user"],
    ["an issued coupon's status", "POST", "/api/v1/users/{self}/coupons", { couponId: "{couponId}", status: "USED" }, "user"],
  ] as const)("a client cannot set %s: 400 naming the field", async (_name, method, template, body, who) => {
    const self = "sec-mass-assigner";
    const fill = (text: string) => text.replaceAll("{self}", self).replaceAll("{productId}", ids.productId).replaceAll("{couponId}", ids.spareCouponId);
    const answer = await viaGateway({
      method,
      path: fill(template),
      authorization: who === "admin" ? await bearer("sec-ops", ["admin"]) : await bearer(self),
      headers: { "idempotency-key": randomUUID() },
      body: JSON.parse(fill(JSON.stringify(body))),
    });
    expectRefusal(answer, 400, "VALIDATION_FAILED");
    expect(JSON.stringify(jsonOf(answer).errors ?? [])).toMatch(/body/);
    if (who === "user")
      expect(jsonOf(await viaGateway({ method: "GET", path: `/api/v1/users/${self}/balance`, authorization: await bearer(self) }))).toEqual({
        userId: self,
        balance: 0,
      });
  });

  test("answers carry the documented properties only", async () => {
    const product = await viaGateway({ method: "GET", path: `/api/v1/products/${ids.productId}`, from: CLIENT.other });
    expect(Object.keys(jsonOf(product)).sort()).toEqual(["id", "name", "price", "stock"]);
    const balance = await viaGateway({ method: "GET", path: `/api/v1/users/${ids.victimId}/balance`, authorization: await bearer(ids.victimId) });
    expect(Object.keys(jsonOf(balance)).sort()).toEqual(["balance", "userId"]);
    const missingPath = "/api/v1/products/no-such-product";
    const missing = await viaGateway({ method: "GET", path: missingPath, from: CLIENT.other });
    expectRefusal(missing, 404, "NOT_FOUND");
    // Problem extensions (RFC 9457) may only echo what the client sent, never add what it did not know.
    const extensions = Object.entries(jsonOf(missing)).filter(([key]) => !["type", "title", "status", "detail", "code", "traceId"].includes(key));
    expect(extensions.filter(([, value]) => typeof value !== "string" || !missingPath.includes(value))).toEqual([]);
  });

  test("after all of it, nothing of the victim's changed", expectNothingChanged);
});

// --- API4 -------------------------------------------------------------------------------------

describe("API4:2023 Unrestricted Resource Consumption", () => {
  test("anonymous requests are limited per client address (X-Forwarded-For does not make a new client); another address is still served", async () => {
    const answers = await Promise.all(
      Array.from({ length: ANON_BURST * 3 }, (_, i) =>
        viaGateway({
          method: "GET",
          path: "/api/v1/products",
          headers: { "x-forwarded-for": `198.51.100.${i % 250}`, forwarded: `for=198.51.100.${i % 250}` },
          from: CLIENT.flooder,
        }),
      ),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect({ limited: limited.length > 0, other: answers.filter((a) => a.status !== 200 && a.status !== 429).map((a) => a.status) }).toEqual({
      limited: true,
      other: [],
    });
    expectRefusal(limited[0]!, 429, "RATE_LIMITED");
    expect(Number(headerOf(limited[0]!, "retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await viaGateway({ method: "GET", path: "/api/v1/products", from: CLIENT.bystander })).status).toBe(200);
  });

  test("a body over the limit is refused with 413, framed by Content-Length or chunked, and nothing is charged", async () => {
    const self = "sec-big-body";
    const authorization = await bearer(self);
    // 1 MiB announced, 70 KiB (over the 64 KiB limit) sent, then the client waits: the refusal must
    // come from what the gateway has seen, and the client is not writing when the connection closes.
    const sent = `{"amount":1,"pad":"${"a".repeat(70 * 1024)}`;
    const head = (framing: string) =>
      `POST /api/v1/users/${self}/balance/charges HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;
    for (const bytes of [head(`Content-Length: ${1 << 20}`) + sent, `${head("Transfer-Encoding: chunked")}${(1 << 20).toString(16)}\r\n${sent}`]) {
      const { responses, raw } = await rawExchange(system.gatewayUrl, bytes, { localAddress: CLIENT.other });
      expect({ answers: responses.length, raw: responses.length === 1 ? "" : preview(raw) }).toEqual({ answers: 1, raw: "" });
      expectRefusal(responses[0]!, 413, "PAYLOAD_TOO_LARGE");
    }
    expect(jsonOf(await viaGateway({ method: "GET", path: `/api/v1/users/${self}/balance`, authorization }))).toEqual({ userId: self, balance: 0 });
  });

  test("a compression bomb (10 MiB of zeros in 10 KiB of gzip) is refused without being inflated into a 5xx", async () => {
    const { gzipSync } = await import("node:zlib");
    const answer = await viaGateway({
      method: "POST",
      path: "/api/v1/admin/products",
      authorization: await bearer("sec-ops", ["admin"]),
      headers: { "content-encoding": "gzip" },
      body: gzipSync(Buffer.alloc(10 << 20)),
    });
    expectRefusal(answer, [413, 415], ["PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"]);
  });

  test("a request target over 8 KiB is 414; headers over the parser's limit are 431", async () => {
    expectRefusal(await viaGateway({ method: "GET", path: `/api/v1/products?q=${"a".repeat(9_000)}`, from: CLIENT.other }), 414, "URI_TOO_LONG");
    const { responses } = await rawExchange(system.gatewayUrl, `GET /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`, {
      localAddress: CLIENT.other,
    });
    expect(responses).toHaveLength(1);
    expectRefusal(responses[0]!, 431, "HEADERS_TOO_LARGE");
  });

  test("page sizes are capped and JSON nested 5,000 deep is refused", async () => {
    expectRefusal(await viaGateway({ method: "GET", path: "/api/v1/products?limit=100000", from: CLIENT.other }), 400, "VALIDATION_FAILED");
    const deep = `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`;
    expectRefusal(await viaGateway({ method: "POST", path: "/api/v1/admin/products", authorization: await bearer("sec-ops", ["admin"]), body: deep }), 400);
  });
});

// --- API5 -------------------------------------------------------------------------------------

const adminRoutes = (f: Fixtures): Array<{ service: ServiceName; method: string; path: string; body: unknown }> => [
  { service: "catalog", method: "POST", path: "/api/v1/admin/products", body: { name: "Planted", price: 1, stock: 1 } },
  { service: "catalog", method: "PATCH", path: `/api/v1/admin/products/${f.productId}`, body: { price: 1 } },
  {
    service: "coupon",
    method: "POST",
    path: "/api/v1/admin/coupons",
    body: { name: "Free", discountType: "PERCENT", discountValue: 100, totalQuantity: 1_000, validForDays: 30 },
  },
];
const ADMIN_ROUTE_NAMES = ["product creation", "product price change", "campaign creation"];

/** The internal endpoints, and a request that would change something if it were accepted. */
const internalRoutes = (f: Fixtures): Array<{ service: ServiceName; path: string; body: unknown }> => [
  { service: "catalog", path: "/internal/v1/products/quote", body: { productIds: [f.productId] } },
  {
    service: "coupon",
    path: `/internal/v1/user-coupons/${f.userCouponId}/reservations`,
    body: { userId: f.victimId, orderId: "sec-direct-reservation", orderAmount: 100_000 },
  },
];
const INTERNAL_ROUTE_NAMES = ["catalog quote", "coupon reservation"];

describe("API5:2023 Broken Function Level Authorization", () => {
  test.each(ADMIN_ROUTE_NAMES.map((name, index) => [name, index] as const))(
    "admin %s: 401 without a token and 403 for a user, through the gateway and straight to the service",
    async (_name, index) => {
      const route = adminRoutes(ids)[index]!;
      const user = await bearer("sec-bfla-user");
      expectRefusal(await viaGateway({ ...route, from: CLIENT.other }), 401, "UNAUTHORIZED");
      expectRefusal(await viaGateway({ ...route, authorization: user }), 403, "FORBIDDEN");
      expectRefusal(await direct(route.service, route), 401, "UNAUTHORIZED");
      expectRefusal(await direct(route.service, { ...route, authorization: user }), 403, "FORBIDDEN");
      expectRefusal(
        await direct(route.service, { ...route, authorization: user, headers: { "x-user-roles": "admin", "x-user-id": "sec-ops" } }),
        403,
        "FORBIDDEN",
      );
      expectRefusal(await direct(route.service, { ...route, authorization: `Bearer ${forgedTokens.unsigned("sec-ops", ["admin"])}` }), 401, "UNAUTHORIZED");
    },
  );

  test.each(INTERNAL_ROUTE_NAMES.map((name, index) => [name, index] as const))(
    "internal %s: only the order service's credential gets past authentication",
    async (_name, index) => {
      const route = { ...internalRoutes(ids)[index]!, method: "POST" };
      const refused: Array<[string, string | undefined, number[]]> = [
        ["no credential", undefined, [401]],
        ["the victim's user token", await bearer(ids.victimId), [401, 403]],
        ["an admin's user token", await bearer("sec-ops", ["admin"]), [401, 403]],
        ["the wallet's service credential", `Bearer ${await signServiceToken("wallet")}`, [403]],
        ["the payment's service credential", `Bearer ${await signServiceToken("payment")}`, [403]],
        ["the gateway's name on a service credential", `Bearer ${await signServiceToken("gateway")}`, [403]],
        ["an order credential signed with the user-token secret", `Bearer ${await signServiceToken("order", { secret: testJwt.secret })}`, [401]],
        ["an expired order credential", `Bearer ${await signServiceToken("order", { expiresIn: Math.floor(Date.now() / 1000) - 3_600 })}`, [401]],
      ];
      const outcomes = [];
      for (const [name, authorization, statuses] of refused) {
        const answer = await direct(route.service, { ...route, authorization });
        const summary = problemSummary(answer);
        outcomes.push({
          name,
          ok:
            statuses.includes(answer.status) && summary.issues.length === 0
              ? "refused"
              : `${answer.status} ${summary.issues.join("; ")} ${preview(answer.text, 120)}`,
        });
      }
      expect(outcomes).toEqual(refused.map(([name]) => ({ name, ok: "refused" })));
    },
  );

  test("internal order lookup: only the coupon service's credential reads it, and it tells nothing but the status", async () => {
    const path = `/internal/v1/orders/${ids.orderId}`;
    const refused: Array<[string, string | undefined, number[]]> = [
      ["no credential", undefined, [401]],
      ["the victim's user token", await bearer(ids.victimId), [401, 403]],
      ["an admin's user token", await bearer("sec-ops", ["admin"]), [401, 403]],
      ["the order service's own credential", `Bearer ${await signServiceToken("order")}`, [403]],
      ["the wallet's service credential", `Bearer ${await signServiceToken("wallet")}`, [403]],
      ["a coupon credential signed with the user-token secret", `Bearer ${await signServiceToken("coupon", { secret: testJwt.secret })}`, [401]],
    ];
    const outcomes = [];
    for (const [name, authorization, statuses] of refused) {
      const answer = await direct("order", { method: "GET", path, authorization });
      outcomes.push({
        name,
        ok: statuses.includes(answer.status) && problemSummary(answer).issues.length === 0 ? "refused" : `${answer.status} ${preview(answer.text, 120)}`,
      });
    }
    expect(outcomes).toEqual(refused.map(([name]) => ({ name, ok: "refused" })));
    // Through the gateway the internal path does not exist at all.
    expect((await viaGateway({ method: "GET", path, authorization: `Bearer ${await signServiceToken("coupon")}` })).status).toBe(404);

    const coupon = `Bearer ${await signServiceToken("coupon")}`;
    const found = await direct("order", { method: "GET", path, authorization: coupon });
    expect(found.status).toBe(200);
    expect(Object.keys(JSON.parse(found.text) as object).sort()).toEqual(["orderId", "status"]);
    // Any id a reservation may carry is answered 404 when it is no order, never 400 or 500.
    for (const unknown of ["sec-no-such-order", "a.b:c-1", "x".repeat(128)]) {
      expectRefusal(await direct("order", { method: "GET", path: `/internal/v1/orders/${unknown}`, authorization: coupon }), 404, "NOT_FOUND");
    }
    expect((await direct("order", { method: "GET", path: "/internal/v1/orders/%2e%2e%2fadmin", authorization: coupon })).status).toBe(400);
  });

  test("the order service's credential is accepted (a quote; a reservation of a coupon that does not exist is 404)", async () => {
    const authorization = `Bearer ${await signServiceToken("order")}`;
    const quote = await direct("catalog", { method: "POST", path: "/internal/v1/products/quote", authorization, body: { productIds: [ids.productId] } });
    expect(quote.status).toBe(200);
    const reservation = await direct("coupon", {
      method: "POST",
      path: `/internal/v1/user-coupons/${randomUUID()}/reservations`,
      authorization,
      body: { userId: ids.victimId, orderId: "sec-no-such-coupon", orderAmount: 10_000 },
    });
    expectRefusal(reservation, 404, "NOT_FOUND");
  });

  test.each([
    "/internal/v1/products/quote",
    "/api/v1/../internal/v1/products/quote",
    "/api/v1/%2e%2e/internal/v1/products/quote",
    "/api/v1/internal/v1/products/quote",
    "/api/v1/admin/../internal/v1/products/quote",
  ])("the gateway does not route %s", async (path) => {
    const answer = await viaGateway({ method: "POST", path, authorization: await bearer("sec-ops", ["admin"]), body: { productIds: [ids.productId] } });
    expectRefusal(answer, [400, 404], ["NOT_FOUND", "MALFORMED_REQUEST"]);
  });

  test("after all of it, nothing of the victim's changed", expectNothingChanged);
});

// --- API5: request smuggling ----------------------------------------------------------------------

/** A head (request line and header lines) and a body, framed as one variant below. */
type Framing = (requestLine: string, headers: string[], payload: string) => string;
const crlf = (requestLine: string, headers: string[]) => `${[requestLine, ...headers].join("\r\n")}\r\n\r\n`;
const chunked = (payload: string) => `${Buffer.byteLength(payload).toString(16)}\r\n${payload}\r\n0\r\n\r\n`;
const length = (payload: string) => Buffer.byteLength(payload);

const FRAMINGS: Array<{ name: string; methods: string[]; frame: Framing }> = [
  {
    name: "Transfer-Encoding: chunked",
    methods: ["GET", "HEAD", "DELETE"],
    frame: (line, h, p) => crlf(line, [...h, "Transfer-Encoding: chunked"]) + chunked(p),
  },
  {
    name: "Connection: keep-alive, content-length and a Content-Length",
    methods: ["GET", "HEAD", "DELETE"],
    frame: (line, h, p) => crlf(line, [...h, "Connection: keep-alive, content-length", `Content-Length: ${length(p)}`]) + p,
  },
  { name: "a plain Content-Length", methods: ["GET"], frame: (line, h, p) => crlf(line, [...h, `Content-Length: ${length(p)}`]) + p },
  {
    name: "Connection: transfer-encoding and Transfer-Encoding: chunked",
    methods: ["GET"],
    frame: (line, h, p) => crlf(line, [...h, "Connection: transfer-encoding", "Transfer-Encoding: chunked"]) + chunked(p),
  },
  {
    name: "Content-Length and Transfer-Encoding together",
    methods: ["GET", "DELETE"],
    frame: (line, h, p) => crlf(line, [...h, "Content-Length: 4", "Transfer-Encoding: chunked"]) + chunked(p),
  },
  {
    name: "two different Content-Length headers",
    methods: ["GET"],
    frame: (line, h, p) => crlf(line, [...h, "Content-Length: 0", `Content-Length: ${length(p)}`]) + p,
  },
  { name: "an obs-folded Transfer-Encoding", methods: ["GET"], frame: (line, h, p) => crlf(line, [...h, "Transfer-Encoding:", " chunked"]) + chunked(p) },
  {
    name: "an obs-folded header before a Content-Length",
    methods: ["GET"],
    frame: (line, h, p) => crlf(line, [...h, "X-Fold: a", " b", `Content-Length: ${length(p)}`]) + p,
  },
  { name: "bare LF line endings", methods: ["GET"], frame: (line, h, p) => `${[line, ...h, "Transfer-Encoding: chunked"].join("\n")}\n\n${chunked(p)}` },
  {
    name: "Transfer-Encoding: chunked, identity",
    methods: ["GET"],
    frame: (line, h, p) => crlf(line, [...h, "Transfer-Encoding: chunked, identity"]) + chunked(p),
  },
  { name: "Transfer-Encoding: xchunked", methods: ["GET"], frame: (line, h, p) => crlf(line, [...h, "Transfer-Encoding: xchunked"]) + chunked(p) },
];
const SMUGGLE_CASES = FRAMINGS.flatMap((framing) => framing.methods.map((method) => [`${method} with ${framing.name}`, method, framing] as const));

/**
 * What each smuggled request is after, the outer request that carries it, and the inner request
 * itself: with the attacker's own token and the gateway's old identity headers claiming more.
 */
function smuggleTargets(attackerId: string, attackerToken: string, method: string) {
  const inner = (line: string, body: unknown, extra: string[]) => {
    const json = JSON.stringify(body);
    return (
      crlf(line, ["Host: 127.0.0.1", `Authorization: Bearer ${attackerToken}`, ...extra, "Content-Type: application/json", `Content-Length: ${length(json)}`]) +
      json
    );
  };
  // The outer request must reach the upstream: public reads need no token, writes and user routes do.
  const outerAuth = method === "DELETE" ? [`Authorization: Bearer ${attackerToken}`] : [];
  return [
    {
      target: "the admin price change",
      outer: { path: "/api/v1/products", headers: outerAuth },
      inner: inner(`PATCH /api/v1/admin/products/${ids.productId} HTTP/1.1`, { price: 1 }, ["X-User-Id: sec-ops", "X-User-Roles: admin"]),
    },
    {
      target: "a charge to the victim's wallet",
      outer: { path: `/api/v1/users/${attackerId}/balance`, headers: [`Authorization: Bearer ${attackerToken}`] },
      inner: inner(`POST /api/v1/users/${ids.victimId}/balance/charges HTTP/1.1`, { amount: 1_000_000 }, [`X-User-Id: ${ids.victimId}`, "X-User-Roles: admin"]),
    },
    {
      target: "an internal reservation of the victim's coupon",
      outer: { path: "/api/v1/coupons", headers: outerAuth },
      inner: inner(
        `POST /internal/v1/user-coupons/${ids.userCouponId}/reservations HTTP/1.1`,
        { userId: ids.victimId, orderId: `sec-smuggled-${attackerId}`, orderAmount: 100_000 },
        [],
      ),
    },
  ];
}

describe("API5:2023 Broken Function Level Authorization — request smuggling through the gateway", () => {
  test.each(SMUGGLE_CASES.map(([name, method, framing], index) => [name, method, framing, index] as const))(
    "%s carrying a second request: every answer is a 4xx problem, and the admin price, the victim's wallet and coupon are untouched",
    async (_name, method, framing, index) => {
      // A fresh attacker per variant, so that the per-user write limit never stands in for the defence under test.
      const attackerId = `sec-smuggler-${index}`;
      const token = await signToken({ sub: attackerId });
      const exchanges = await Promise.all(
        smuggleTargets(attackerId, token, method).map(async ({ target, outer, inner }) => {
          const bytes = framing.frame(`${method} ${outer.path} HTTP/1.1`, ["Host: 127.0.0.1", ...outer.headers], inner);
          return { target, ...(await rawExchange(system.gatewayUrl, bytes, { localAddress: CLIENT.smuggler, headRequest: method === "HEAD" })) };
        }),
      );
      const verdicts = exchanges.map(({ target, responses, raw }) => ({
        target,
        answers: responses.length
          ? responses.map((response, i) => {
              const summary = problemSummary(response, { headRequest: method === "HEAD" && i === 0 });
              return summary.status >= 400 && summary.status < 500 && summary.issues.length === 0
                ? "4xx problem"
                : `${summary.status}: ${summary.issues.join("; ")} ${preview(response.text, 100)}`;
            })
          : [`no answer: ${preview(raw)}`],
      }));
      expect(verdicts).toEqual(
        exchanges.map(({ target, responses }) => ({ target, answers: (responses.length ? responses : [undefined]).map(() => "4xx problem") })),
      );
      await sleep(SMUGGLE_SETTLE_MS);
      await expectNothingChanged();
    },
  );
});

// --- API6 -------------------------------------------------------------------------------------

describe("API6:2023 Unrestricted Access to Sensitive Business Flows", () => {
  test("a user's writes are rate limited: a burst of charges gets 429 with Retry-After, and the balance holds exactly the accepted ones", async () => {
    const user = await ApiClient.as(system.gatewayUrl, "sec-hasty-charger");
    const answers = await Promise.all(Array.from({ length: WRITE_BURST * 3 }, () => user.charge(1)));
    const accepted = answers.filter((a) => a.status === 201).length;
    const limited = answers.filter((a) => a.status === 429);
    expect({ limited: limited.length > 0, other: answers.filter((a) => a.status !== 201 && a.status !== 429).map((a) => a.status) }).toEqual({
      limited: true,
      other: [],
    });
    expect(limited[0]!.body.code).toBe("RATE_LIMITED");
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await user.balance()).toBe(accepted);
  });

  test("one coupon per user, even when one user asks many times at once", async () => {
    const campaign = await shop.percentCoupon(5, 100);
    const user = await ApiClient.as(system.gatewayUrl, "sec-coupon-hoarder");
    const answers = await Promise.all(Array.from({ length: 8 }, () => user.post(`/users/${user.userId}/coupons`, { couponId: campaign })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 201).map((a) => a.body.code)).toEqual(
      answers.filter((a) => a.status !== 201).map(() => expect.stringMatching(/^(COUPON_ALREADY_ISSUED|RATE_LIMITED)$/)),
    );
    expect((await shop.admin.get(`/coupons/${campaign}`)).body.issuedQuantity).toBe(1);
  });
});

// --- API7 -------------------------------------------------------------------------------------

describe("API7:2023 Server Side Request Forgery", () => {
  test("nothing a client sends makes the system call an address of the client's choosing (jku/x5u/jwk in tokens, absolute-form targets, Host and forwarding headers)", async () => {
    const hits: string[] = [];
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = { ...(await exportJWK(publicKey)), kid: "attacker", alg: "RS256", use: "sig" };
    const lure = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => lure.listen(0, "127.0.0.1", resolve));
    const lureUrl = `http://127.0.0.1:${(lure.address() as AddressInfo).port}`;
    try {
      const token = await new SignJWT({ roles: ["admin"] })
        .setProtectedHeader({ alg: "RS256", kid: "attacker", jku: `${lureUrl}/jwks.json`, x5u: `${lureUrl}/cert.pem`, jwk })
        .setSubject(ids.victimId)
        .setIssuer(testJwt.issuer)
        .setAudience(testJwt.audience)
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(privateKey);
      expectRefusal(await viaGateway({ method: "GET", path: `/api/v1/users/${ids.victimId}/balance`, authorization: `Bearer ${token}` }), 401, "UNAUTHORIZED");
      expectRefusal(
        await direct("wallet", { method: "GET", path: `/api/v1/users/${ids.victimId}/balance`, authorization: `Bearer ${token}` }),
        401,
        "UNAUTHORIZED",
      );

      const absolute = await rawExchange(system.gatewayUrl, `GET ${lureUrl}/api/v1/products HTTP/1.1\r\nHost: ${lureUrl.slice(7)}\r\n\r\n`, {
        localAddress: CLIENT.ssrf,
      });
      expect(absolute.responses).toHaveLength(1);
      expectRefusal(absolute.responses[0]!, [400, 404]);

      const steered = await viaGateway({
        method: "GET",
        path: "/api/v1/products",
        headers: { host: lureUrl.slice(7), "x-forwarded-host": lureUrl.slice(7), forwarded: `host=${lureUrl.slice(7)}`, "x-original-url": `${lureUrl}/x` },
        from: CLIENT.ssrf,
      });
      expect(steered.status).toBe(200);
      expect(jsonOf(steered).items.map((p: { id: string }) => p.id)).toContain(ids.productId);
      await sleep(200);
      expect(hits).toEqual([]);
    } finally {
      await new Promise((resolve) => lure.close(resolve));
    }
  });
});

// --- API8 -------------------------------------------------------------------------------------

describe("API8:2023 Security Misconfiguration", () => {
  test("a CORS preflight from an allowed origin is answered without a token; another origin gets no CORS headers", async () => {
    const preflight = (origin: string) =>
      viaGateway({
        method: "OPTIONS",
        path: `/api/v1/users/${ids.victimId}/balance/charges`,
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
        from: CLIENT.edge,
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect({
      status: allowed.status >= 200 && allowed.status < 300 ? "2xx" : allowed.status,
      origin: headerOf(allowed, "access-control-allow-origin"),
    }).toEqual({ status: "2xx", origin: ALLOWED_ORIGIN });
    expect(headerOf(allowed, "access-control-allow-methods")).toMatch(/\bPOST\b/);
    expect(headerOf(allowed, "access-control-allow-headers")?.toLowerCase()).toEqual(
      expect.stringMatching(/authorization.*content-type|content-type.*authorization/),
    );
    expect(headerOf(allowed, "access-control-allow-credentials")).toBeUndefined();

    const foreign = await preflight("https://evil.example");
    expect(foreign.status).toBeLessThan(500);
    expect(headerOf(foreign, "access-control-allow-origin")).toBeUndefined();

    const read = (origin: string) => viaGateway({ method: "GET", path: "/api/v1/products", headers: { origin }, from: CLIENT.edge });
    expect(headerOf(await read(ALLOWED_ORIGIN), "access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
    const foreignRead = await read("https://evil.example");
    expect(headerOf(foreignRead, "access-control-allow-origin")).toBeUndefined();
    expect(headerOf(foreignRead, "vary")).toMatch(/origin/i);
  });

  test("every kind of answer carries the security headers; authenticated ones and errors are not cacheable", async () => {
    const victimAuth = await bearer(ids.victimId);
    const answers: Record<string, Answer> = {
      "a public read": await viaGateway({ method: "GET", path: "/api/v1/products", from: CLIENT.edge }),
      "an authenticated read": await viaGateway({ method: "GET", path: `/api/v1/users/${ids.victimId}/balance`, authorization: victimAuth }),
      "the gateway's 401": await viaGateway({ method: "GET", path: `/api/v1/users/${ids.victimId}/balance`, from: CLIENT.edge }),
      "a service's 404 relayed": await viaGateway({ method: "GET", path: `/api/v1/users/${ids.victimId}/orders/no-such-order`, authorization: victimAuth }),
      "an unknown path": await viaGateway({ method: "GET", path: "/nothing-here", from: CLIENT.edge }),
      "the OpenAPI document": await viaGateway({ method: "GET", path: "/openapi.json", from: CLIENT.edge }),
    };
    const noStore = new Set(["an authenticated read", "the gateway's 401", "a service's 404 relayed", "an unknown path"]);
    const report = Object.entries(answers).map(([name, answer]) => ({
      name,
      nosniff: headerOf(answer, "x-content-type-options"),
      framing:
        headerOf(answer, "x-frame-options") === "DENY" || /frame-ancestors 'none'/.test(headerOf(answer, "content-security-policy") ?? "")
          ? "denied"
          : "allowed",
      poweredBy: headerOf(answer, "x-powered-by"),
      cache: noStore.has(name) ? /no-store/.test(headerOf(answer, "cache-control") ?? "") : "n/a",
    }));
    expect(report).toEqual(
      Object.keys(answers).map((name) => ({ name, nosniff: "nosniff", framing: "denied", poweredBy: undefined, cache: noStore.has(name) ? true : "n/a" })),
    );
  });

  test("a client's x-request-id is echoed only when short and plain; otherwise it is replaced", async () => {
    const echo = async (value: string) => {
      const { responses } = await rawExchange(
        system.gatewayUrl,
        Buffer.from(`GET /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: ${value}\r\n\r\n`, "latin1"),
        { localAddress: CLIENT.edge },
      );
      return headerOf(responses[0]!, "x-request-id");
    };
    expect(await echo("checkout-7f3a")).toBe("checkout-7f3a");
    for (const hostile of ["a".repeat(200), "a\tb", "<script>alert(1)</script>", "id\u00ff", "a b"]) {
      const echoed = await echo(hostile);
      expect({ hostile: preview(hostile, 20), replaced: echoed !== hostile && /^[\x21-\x7e]{1,64}$/.test(echoed ?? "") }).toEqual({
        hostile: preview(hostile, 20),
        replaced: true,
      });
    }
  });

  test.each([
    ["a malformed request line", "GET /api/v1/products HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n", 400],
    ["an unknown HTTP version", "GET /api/v1/products HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 400],
    ["a TLS handshake on the plain port", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003", 400],
    ["an HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400],
    ["a control character in a header value", "GET /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Thing: a\u0001b\r\n\r\n", 400],
    ["a space before a header's colon", "GET /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400],
    [
      "Content-Length with Transfer-Encoding",
      "POST /api/v1/admin/products HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
    ],
    ["an invalid Content-Length", "POST /api/v1/admin/products HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +5\r\n\r\nhello", 400],
    ["no Host header", "GET /api/v1/products HTTP/1.1\r\n\r\n", 400],
  ] as const)("what the HTTP parser refuses (%s) is answered with problem+json", async (_name, bytes, status) => {
    const { responses, raw } = await rawExchange(system.gatewayUrl, Buffer.from(bytes, "latin1"), { localAddress: CLIENT.edge });
    expect({ answers: responses.length, raw: responses.length ? "" : preview(raw) }).toEqual({ answers: 1, raw: "" });
    expectRefusal(responses[0]!, status, ["MALFORMED_REQUEST", "VALIDATION_FAILED"]);
  });

  test("TRACE and other methods the API does not have are 405 with an Allow header; CONNECT (the gateway is no proxy) is 405", async () => {
    for (const method of ["TRACE", "PROPFIND", "PURGE"]) {
      const { responses } = await rawExchange(system.gatewayUrl, `${method} /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, {
        localAddress: CLIENT.edge,
      });
      expect({ method, answers: responses.length }).toEqual({ method, answers: 1 });
      expectRefusal(responses[0]!, 405, "METHOD_NOT_ALLOWED");
      expect(headerOf(responses[0]!, "allow")).toMatch(/\bGET\b/);
    }
    const connect = await rawExchange(system.gatewayUrl, "CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n", {
      localAddress: CLIENT.edge,
    });
    expect(connect.responses).toHaveLength(1);
    expectRefusal(connect.responses[0]!, 405, "METHOD_NOT_ALLOWED");
  });
});

/** Starts one process of the system with `env` and reports how it ended (killed after `timeoutMs` if it did not). */
function bootOnce(dir: string, env: Record<string, string>, timeoutMs = 20_000): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: fileURLToPath(new URL(`../../${dir}`, import.meta.url)),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output });
    });
  });
}

describe("API8:2023 Security Misconfiguration — secrets", () => {
  test(
    "in production, a development default or a placeholder secret stops the gateway and the services at boot",
    async () => {
      const strong = randomUUID() + randomUUID();
      // Should a process start after all, it works on this file's schema and topics, not on anyone else's.
      const production = {
        NODE_ENV: "production",
        PORT: "0",
        LOG_LEVEL: "error",
        TOPIC_PREFIX: `${system.topicPrefix}boot.`,
        REDIS_KEY_PREFIX: `${system.topicPrefix}boot.`,
        DATABASE_URL: system.schemas.wallet.databaseUrl,
      };
      const [gatewayDefault, gatewayPlaceholder, walletDefault] = await Promise.all([
        bootOnce("gateway", { ...production, JWT_SECRET: "local-dev-secret-change-me" }),
        bootOnce("gateway", { ...production, JWT_SECRET: "REPLACE-ME-with-a-long-random-secret" }),
        bootOnce("services/wallet", { ...production, JWT_SECRET: strong, SERVICE_TOKEN_SECRET: "local-dev-service-secret-change-me" }),
      ]);
      const verdict = (run: { exitCode: number | null; output: string }, key: string) => ({
        stopped: run.exitCode !== null && run.exitCode !== 0,
        names: run.output.includes(key),
      });
      expect([verdict(gatewayDefault, "JWT_SECRET"), verdict(gatewayPlaceholder, "JWT_SECRET"), verdict(walletDefault, "SERVICE_TOKEN_SECRET")]).toEqual([
        { stopped: true, names: true },
        { stopped: true, names: true },
        { stopped: true, names: true },
      ]);
    },
    E2E_TIMEOUT_MS,
  );
});

// --- API9 -------------------------------------------------------------------------------------

describe("API9:2023 Improper Inventory Management", () => {
  test("every operation in /openapi.json is routed, and its documented security is what is enforced", async () => {
    const document = (await (await fetch(`${system.gatewayUrl}/openapi.json`)).json()) as Record<string, any>;
    expect(document["x-missing-services"]).toEqual([]);
    expect(Object.keys(document.paths).filter((path) => !path.startsWith("/api/v1/"))).toEqual([]);
    const operations = operationsOf(document);
    const known: Record<string, string> = { userId: ids.victimId, productId: ids.productId, couponId: ids.couponId, orderId: ids.orderId };
    const report = [];
    for (const op of operations) {
      const path = op.template.replace(/\{([^}]+)\}/g, (_, name: string) => known[name] ?? "x");
      // A body no operation accepts: an owner's write is then refused by validation, proving the route is there.
      const body = op.method === "GET" ? undefined : { "sec-inventory-probe": true };
      const anonymous = await viaGateway({ method: op.method, path, body, from: CLIENT.inventory });
      const owner = op.template.startsWith("/api/v1/admin/")
        ? await bearer("sec-ops", ["admin"])
        : op.template.includes("{userId}")
          ? await bearer(ids.victimId)
          : undefined;
      const asOwner = await viaGateway({
        method: op.method,
        path,
        body,
        authorization: owner,
        headers: { "idempotency-key": randomUUID() },
        from: CLIENT.inventory,
      });
      report.push({
        operation: op.key,
        anonymous: op.secured ? anonymous.status === 401 : anonymous.status !== 401 && anonymous.status < 500,
        routed: op.method === "GET" ? asOwner.status === 200 : asOwner.status === 400 && jsonOf(asOwner)?.code === "VALIDATION_FAILED",
      });
    }
    expect(report).toEqual(operations.map((op) => ({ operation: op.key, anonymous: true, routed: true })));
  });

  test.each([
    ["GET", "/api/v2/products"],
    ["GET", "/api/v0/products"],
    ["GET", "/api/products"],
    ["GET", "/api/v1/admin/users"],
    ["GET", "/api/v1/users/sec-ops"],
    ["GET", "/api/v1/users/sec-ops/profile"],
    ["POST", "/internal/v1/products/quote"],
    ["GET", "/api/v1/products/../../internal/v1/products/quote"],
  ])("%s %s is not exposed: 404", async (method, path) => {
    const answer = await viaGateway({
      method,
      path,
      authorization: await bearer("sec-ops", ["admin"]),
      body: method === "POST" ? { productIds: [ids.productId] } : undefined,
    });
    expectRefusal(answer, 404, "NOT_FOUND");
  });
});

// --- API10 ------------------------------------------------------------------------------------

describe("API10:2023 Unsafe Consumption of APIs", () => {
  test(
    "records on a saga topic that are not registry-encoded events are dead-lettered and change nothing",
    async () => {
      const kafka = createKafka("e2e-security", testInfra.brokers, silentLogger);
      const admin = kafka.admin();
      const producer = kafka.producer();
      await Promise.all([admin.connect(), producer.connect()]);
      try {
        const deadLetters = `${system.topicPrefix}wallet.dlq`;
        const depth = async () => {
          try {
            return (await admin.fetchTopicOffsets(deadLetters)).reduce((sum, partition) => sum + Number(partition.high), 0);
          } catch {
            return 0; // not created until the first dead letter
          }
        };
        const before = await depth();
        await producer.send({
          topic: topicOf("OrderPlaced", system.topicPrefix),
          messages: [
            { key: "sec-forged-1", value: Buffer.from(JSON.stringify({ orderId: "sec-forged-1", userId: ids.victimId, totalAmount: 50_000 })) },
            // The Confluent wire format's magic byte and a schema id the registry never issued.
            { key: "sec-forged-2", value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from("not avro")]) },
          ],
        });
        await eventually(async () => expect(await depth()).toBeGreaterThanOrEqual(before + 2), 20_000, 200);
      } finally {
        await Promise.all([admin.disconnect(), producer.disconnect()]);
      }
      await expectNothingChanged();
    },
    E2E_TIMEOUT_MS,
  );
});
