// What a browser or any client sees at the edge: request ids, CORS, security and cache headers,
// breakers that clients cannot trip, and the per-client limit on anonymous requests.
import { createHash } from "node:crypto";
import { signToken } from "@shop/testing";
import type { RunningGateway } from "../src/main.ts";
import { expectProblem, httpCall, settle, startRecorder, startTestGateway, type Answer, type Recorder } from "./support.ts";

const SHOP_ORIGIN = "https://shop.example.com";

let recorder: Recorder;
let gateway: RunningGateway;
let corsGateway: RunningGateway;
let userToken: string;

beforeAll(async () => {
  recorder = await startRecorder();
  gateway = await startTestGateway(recorder.url, { RATE_LIMIT_ENABLED: "false" });
  corsGateway = await startTestGateway(recorder.url, {
    RATE_LIMIT_ENABLED: "false",
    CORS_ALLOWED_ORIGINS: `${SHOP_ORIGIN}, http://localhost:5173`,
    CORS_MAX_AGE_SECONDS: "300",
  });
  userToken = await signToken({ sub: "user-1" });
});
afterAll(async () => {
  for (const running of [gateway, corsGateway]) await running?.stop();
  await recorder?.close();
});
beforeEach(() => {
  recorder.seen.length = 0;
});

const auth = () => ({ authorization: `Bearer ${userToken}` });

describe("x-request-id", () => {
  test("a short plain id is echoed and forwarded", async () => {
    const response = await httpCall(gateway.url, "GET", "/api/v1/products", { headers: { "x-request-id": "checkout-42.a:b_c" } });
    expect(response.headers["x-request-id"]).toBe("checkout-42.a:b_c");
    expect(recorder.seen.at(-1)!.headers["x-request-id"]).toBe("checkout-42.a:b_c");
  });

  test.each([
    ["too long", "r".repeat(65)],
    ["with spaces", "a b"],
    ["with a log-line lookalike", 'x" level=error msg="forged'],
  ])("an id %s is replaced by the trace id, in the answer and upstream", async (_label, sent) => {
    const response = await httpCall(gateway.url, "GET", "/api/v1/products", { headers: { "x-request-id": sent } });
    const traceId = /^00-([0-9a-f]{32})-/.exec(String(response.headers.traceparent))![1];
    expect(response.headers["x-request-id"]).toBe(traceId);
    expect(recorder.seen.at(-1)!.headers["x-request-id"]).toBe(traceId);
  });

  test("the gateway's own answers use the same rule", async () => {
    const response = await httpCall(gateway.url, "GET", "/nothing-here", { headers: { "x-request-id": "z".repeat(200) } });
    expect(response.headers["x-request-id"]).toBe(response.body.traceId);
  });
});

describe("CORS", () => {
  const preflight = (origin: string, path = "/api/v1/users/user-1/orders") =>
    httpCall(corsGateway.url, "OPTIONS", path, {
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
    });

  test("a preflight from an allowed origin is 204 with the allow headers, needs no token and goes nowhere", async () => {
    const response = await preflight(SHOP_ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe(SHOP_ORIGIN);
    expect(response.headers["access-control-allow-methods"]).toBe("GET, HEAD, POST, PUT, PATCH, DELETE");
    expect(String(response.headers["access-control-allow-headers"]).split(", ")).toEqual([
      "authorization",
      "content-type",
      "idempotency-key",
      "prefer",
      "x-request-id",
      "traceparent",
    ]);
    expect(response.headers["access-control-max-age"]).toBe("300");
    expect(response.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(response.headers.vary).toBe("Origin");
    expect((await preflight("http://localhost:5173")).headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    await settle();
    expect(recorder.lines()).toEqual([]);
  });

  test("a preflight from any other origin is 403 problem+json with no CORS headers", async () => {
    for (const origin of ["https://evil.example.com", "https://shop.example.com.evil.example", "null", `${SHOP_ORIGIN}/`]) {
      const response = await preflight(origin);
      expectProblem(response, 403, "FORBIDDEN");
      expect(Object.keys(response.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
    }
  });

  test("without an allow-list, no origin gets CORS headers", async () => {
    const response = await httpCall(gateway.url, "OPTIONS", "/api/v1/products", { headers: { origin: SHOP_ORIGIN, "access-control-request-method": "GET" } });
    expectProblem(response, 403, "FORBIDDEN");
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
    const simple = await httpCall(gateway.url, "GET", "/api/v1/products", { headers: { origin: SHOP_ORIGIN } });
    expect(simple.headers["access-control-allow-origin"]).toBeUndefined();
    expect(simple.headers.vary).toBeUndefined();
  });

  test("an OPTIONS that is not a preflight is answered with Allow, never forwarded", async () => {
    const response = await httpCall(gateway.url, "OPTIONS", "/api/v1/products");
    expect(response.status).toBe(204);
    expect(response.headers.allow).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    await settle();
    expect(recorder.lines()).toEqual([]);
  });

  test("answers to an allowed origin can be read by its page, errors included", async () => {
    const ok = await httpCall(corsGateway.url, "GET", "/api/v1/products/cacheable", { headers: { origin: SHOP_ORIGIN } });
    expect(ok.status).toBe(200);
    expect(ok.headers["access-control-allow-origin"]).toBe(SHOP_ORIGIN);
    expect(ok.headers["access-control-expose-headers"]).toBe("x-request-id, retry-after, location, idempotent-replayed");
    // The upstream's own Vary is kept alongside the gateway's.
    expect(ok.headers.vary).toBe("Origin, accept-encoding");
    const unauthorized = await httpCall(corsGateway.url, "GET", "/api/v1/users/user-1/balance", { headers: { origin: SHOP_ORIGIN } });
    expectProblem(unauthorized, 401, "UNAUTHORIZED");
    expect(unauthorized.headers["access-control-allow-origin"]).toBe(SHOP_ORIGIN);
  });

  test("answers to another origin carry Vary but no CORS headers", async () => {
    const response = await httpCall(corsGateway.url, "GET", "/api/v1/products", { headers: { origin: "https://evil.example.com" } });
    expect(response.status).toBe(200);
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
    expect(response.headers.vary).toBe("Origin");
  });
});

describe("security headers", () => {
  const expectSecurityHeaders = (response: Answer) => {
    expect(response.headers).toMatchObject({
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "strict-transport-security": "max-age=31536000; includeSubDomains",
      "cross-origin-opener-policy": "same-origin",
    });
    expect(response.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  };
  const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  test("on every kind of answer", async () => {
    const answers = [
      await httpCall(gateway.url, "GET", "/api/v1/products"),
      await httpCall(gateway.url, "GET", "/api/v1/products/status/404"),
      await httpCall(gateway.url, "GET", "/api/v1/users/user-1/balance"),
      await httpCall(gateway.url, "GET", "/nothing-here"),
      await httpCall(gateway.url, "GET", "/healthz"),
      await httpCall(gateway.url, "GET", "/openapi.json"),
    ];
    for (const answer of answers) {
      expectSecurityHeaders(answer);
      expect(answer.headers["content-security-policy"]).toBe(API_CSP);
    }
  });

  test("/docs gets a policy Swagger UI can run under: its own assets and exactly its inline script", async () => {
    const page = await httpCall(gateway.url, "GET", "/docs");
    expectSecurityHeaders(page);
    const policy = String(page.headers["content-security-policy"]);
    const inline = /<script>([\s\S]*?)<\/script>/.exec(page.text)![1]!;
    const hash = createHash("sha256").update(inline).digest("base64");
    expect(policy).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("style-src 'self' 'unsafe-inline'");
    expect(policy).not.toContain("unsafe-eval");
    const bundle = await httpCall(gateway.url, "GET", "/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers["content-security-policy"]).toBe(policy);
  });
});

describe("Cache-Control", () => {
  test("an answer to an authenticated request is no-store, whatever the service said", async () => {
    const response = await httpCall(gateway.url, "GET", "/api/v1/users/user-1/balance/cacheable", { headers: auth() });
    expect(response.status).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
  });

  test("a public read keeps the service's caching; a token on it makes it no-store", async () => {
    expect((await httpCall(gateway.url, "GET", "/api/v1/products/cacheable")).headers["cache-control"]).toBe("public, max-age=60");
    expect((await httpCall(gateway.url, "GET", "/api/v1/products/cacheable", { headers: auth() })).headers["cache-control"]).toBe("no-store");
  });

  test("every error answer is no-store, relayed or the gateway's own", async () => {
    for (const path of ["/api/v1/products/status/404", "/api/v1/products/status/500", "/api/v1/nothing", "/readyz-nope"]) {
      const response = await httpCall(gateway.url, "GET", path);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.headers["cache-control"]).toBe("no-store");
    }
  });

  test("the gateway's own dynamic answers are no-store too", async () => {
    expect((await httpCall(gateway.url, "GET", "/openapi.json")).headers["cache-control"]).toBe("no-store");
    expect((await httpCall(gateway.url, "GET", "/metrics")).headers["cache-control"]).toBe("no-store");
  });
});

describe("circuit breakers count only what says the upstream is unwell", () => {
  const breakerEnv = { RATE_LIMIT_ENABLED: "false", BREAKER_VOLUME_THRESHOLD: "3", BREAKER_RESET_MS: "60000" };

  test("a burst of upstream 500s is relayed and does not open the breaker", async () => {
    const target = await startTestGateway(recorder.url, breakerEnv);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await httpCall(target.url, "GET", "/api/v1/products/status/500")).status);
      expect(statuses).toEqual(Array(12).fill(500));
      const after = await httpCall(target.url, "GET", "/api/v1/products");
      expect(after.status).toBe(200);
      expect(recorder.seen).toHaveLength(13);
      expect((await httpCall(target.url, "GET", "/metrics")).text).toContain('gateway_upstream_circuit_open{upstream="catalog"} 0');
    } finally {
      await target.stop();
    }
  });

  test("a burst of upstream 503s opens it: then the gateway answers 503 itself, without calling", async () => {
    const target = await startTestGateway(recorder.url, breakerEnv);
    try {
      const answers: Answer[] = [];
      for (let i = 0; i < 6; i++) answers.push(await httpCall(target.url, "GET", "/api/v1/products/status/503"));
      // The first three are the upstream's own answers, relayed.
      for (const answer of answers.slice(0, 3)) expect(answer.body).toEqual({ code: "RECORDER_ANSWER", status: 503 });
      for (const answer of answers.slice(3)) {
        expectProblem(answer, 503, "SERVICE_UNAVAILABLE");
        expect(Number(answer.headers["retry-after"])).toBeGreaterThanOrEqual(50);
      }
      expect(recorder.seen).toHaveLength(3);
      // One breaker per upstream: the others are unaffected.
      expect((await httpCall(target.url, "GET", "/api/v1/users/user-1/balance", { headers: auth() })).status).toBe(200);
    } finally {
      await target.stop();
    }
  });

  test("502 and 504 answers count too", async () => {
    const target = await startTestGateway(recorder.url, breakerEnv);
    try {
      for (const status of [502, 504, 502]) await httpCall(target.url, "GET", `/api/v1/products/status/${status}`);
      expectProblem(await httpCall(target.url, "GET", "/api/v1/products"), 503, "SERVICE_UNAVAILABLE");
    } finally {
      await target.stop();
    }
  });
});

describe("anonymous requests are limited per client address", () => {
  let limited: RunningGateway;
  beforeAll(async () => {
    limited = await startTestGateway(recorder.url, { ANON_RATE_LIMIT_BURST: "3", ANON_RATE_LIMIT_PER_SECOND: "0.5" });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  test("beyond the burst a client gets 429 with Retry-After, and the service is not called", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await httpCall(limited.url, "GET", "/api/v1/products", { localAddress: "127.0.0.2" })).status);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await httpCall(limited.url, "GET", "/api/v1/coupons", { localAddress: "127.0.0.2" });
    expectProblem(refused, 429, "RATE_LIMITED");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // A token that does not verify does not lift the limit.
    expectProblem(
      await httpCall(limited.url, "GET", "/api/v1/products", { localAddress: "127.0.0.2", headers: { authorization: "Bearer forged" } }),
      429,
      "RATE_LIMITED",
    );
    expect(recorder.lines()).toEqual(["GET /api/v1/products", "GET /api/v1/products", "GET /api/v1/products"]);
  });

  test("other clients are not affected", async () => {
    expect((await httpCall(limited.url, "GET", "/api/v1/products", { localAddress: "127.0.0.3" })).status).toBe(200);
  });

  test("a caller with a valid token is not an anonymous client", async () => {
    for (let i = 0; i < 5; i++)
      expect((await httpCall(limited.url, "GET", "/api/v1/products", { localAddress: "127.0.0.2", headers: auth() })).status).toBe(200);
  });

  test("RATE_LIMIT_ENABLED=false switches it off", async () => {
    const unlimited = await startTestGateway(recorder.url, { RATE_LIMIT_ENABLED: "false", ANON_RATE_LIMIT_BURST: "1", ANON_RATE_LIMIT_PER_SECOND: "0.1" });
    try {
      for (let i = 0; i < 4; i++) expect((await httpCall(unlimited.url, "GET", "/api/v1/products", { localAddress: "127.0.0.4" })).status).toBe(200);
    } finally {
      await unlimited.stop();
    }
  });
});
