// The gateway's metrics and access log against a recording stand-in for the services and the real
// Redis (the per-user write limiter).
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { metricValue, signToken, testInfra, testJwt } from "@shop/testing";
import { loadGatewayConfig } from "../src/config.ts";
import { start as startGateway, type RunningGateway } from "../src/main.ts";
import { startRecorder, type Recorder } from "./support.ts";

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const logger = pino({ level: "info", formatters: { level: (label) => ({ level: label }) } }, sink);

let recorder: Recorder;
let gateway: RunningGateway;
const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

beforeAll(async () => {
  recorder = await startRecorder();
  const upstream = recorder.url;
  gateway = await startGateway(
    loadGatewayConfig({
      PORT: "0",
      JWT_SECRET: testJwt.secret,
      JWT_ISSUER: testJwt.issuer,
      JWT_AUDIENCE: testJwt.audience,
      UPSTREAMS: "wallet,catalog,coupon,order,payment",
      WALLET_URL: upstream,
      CATALOG_URL: upstream,
      COUPON_URL: upstream,
      ORDER_URL: upstream,
      PAYMENT_URL: upstream,
      REDIS_URL: testInfra.redisUrl,
      RATE_LIMIT_BURST: "1",
      RATE_LIMIT_WRITES_PER_SECOND: "0.01",
      ANON_RATE_LIMIT_BURST: "2",
      ANON_RATE_LIMIT_PER_SECOND: "0.01",
    }),
    logger,
  );
});
afterAll(async () => {
  await gateway?.stop();
  await recorder?.close();
});

const metrics = async () => (await fetch(`${gateway.url}/metrics`)).text();
const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

test("each API path is its own route label: /balance/history is not counted as /balance", async () => {
  const userId = `obs-${randomUUID().slice(0, 8)}`;
  const token = await signToken({ sub: userId });
  expect((await get(`/api/v1/users/${userId}/balance`, token)).status).toBe(200);
  expect((await get(`/api/v1/users/${userId}/balance/history`, token)).status).toBe(200);
  expect((await get(`/api/v1/users/${userId}/balance/history`, token)).status).toBe(200);
  expect((await get(`/api/v1/users/${userId}/orders/o-1`, token)).status).toBe(200);
  const text = await metrics();
  const count = (route: string) => metricValue(text, "http_request_duration_seconds_count", { service: "gateway", method: "GET", route, status: "200" });
  expect(count("/api/v1/users/:userId/balance")).toBe(1);
  expect(count("/api/v1/users/:userId/balance/history")).toBe(2);
  expect(count("/api/v1/users/:userId/orders/:orderId")).toBe(1);
});

test("429s are counted per limiter: a user's writes and an address without a token", async () => {
  const before = await metrics();
  expect(metricValue(before, "gateway_rate_limit_rejections_total", { limiter: "user" })).toBe(0);
  expect(metricValue(before, "gateway_rate_limit_rejections_total", { limiter: "client" })).toBe(0);

  const userId = `obs-${randomUUID().slice(0, 8)}`;
  const token = await signToken({ sub: userId });
  const charge = () =>
    fetch(`${gateway.url}/api/v1/users/${userId}/balance/charges`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: '{"amount":1}',
    });
  expect((await charge()).status).toBe(200);
  expect((await charge()).status).toBe(429);
  expect((await charge()).status).toBe(429);

  // The anonymous bucket (burst 2) is shared by every request from this address without a token.
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await get("/api/v1/products")).status);
  const anonymousRefusals = statuses.filter((s) => s === 429).length;
  expect(anonymousRefusals).toBeGreaterThan(0);

  const after = await metrics();
  expect(metricValue(after, "gateway_rate_limit_rejections_total", { limiter: "user" })).toBe(2);
  expect(metricValue(after, "gateway_rate_limit_rejections_total", { limiter: "client" })).toBe(anonymousRefusals);
});

test("every request gets one access line with its trace id, route and the order the path names", async () => {
  const userId = `obs-${randomUUID().slice(0, 8)}`;
  const token = await signToken({ sub: userId });
  lines.length = 0;
  const answer = await get(`/api/v1/users/${userId}/orders/o-77`, token, { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
  expect(answer.status).toBe(200);
  await fetch(`${gateway.url}/metrics`);
  const access = lines.filter((line) => line.msg === "request");
  expect(access).toEqual([
    expect.objectContaining({
      level: "info",
      traceId: TRACE_ID,
      method: "GET",
      route: "/api/v1/users/:userId/orders/:orderId",
      status: 200,
      userId,
      orderId: "o-77",
      requestId: answer.headers.get("x-request-id"),
    }),
  ]);
  // The trace reaches the service with the request.
  expect(String(recorder.seen.at(-1)!.headers.traceparent)).toContain(TRACE_ID);
});
