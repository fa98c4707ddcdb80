// The response cache in the gateway, in front of a recording stand-in for the catalog: which reads
// it answers itself, which it always sends on, and what empties it.
import { signToken } from "@shop/testing";
import type { RunningGateway } from "../src/main.ts";
import { httpCall, startRecorder, startTestGateway, type Recorder } from "./support.ts";

let recorder: Recorder;
let gateway: RunningGateway;
let uncached: RunningGateway;

beforeAll(async () => {
  recorder = await startRecorder();
  gateway = await startTestGateway(recorder.url, { RATE_LIMIT_ENABLED: "false" });
  uncached = await startTestGateway(recorder.url, { RATE_LIMIT_ENABLED: "false", RESPONSE_CACHE_TTL_MS: "0" });
});
afterAll(async () => {
  await gateway?.stop();
  await uncached?.stop();
  await recorder?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let n = 0;
/** A path no other test has read, so each test starts with nothing cached for it. */
const fresh = (kind: "shared" | "plain") => `/api/v1/products/${kind}-${++n}`;
const timesSeen = (path: string) => recorder.seen.filter((r) => r.url === path).length;

test("an anonymous read the catalog marks shareable is answered by the gateway for its TTL, with its age and the gateway's own headers, then fetched again", async () => {
  const path = fresh("shared");
  const first = await httpCall(gateway.url, "GET", path);
  const second = await httpCall(gateway.url, "GET", path);
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(second.text).toBe(first.text);
  expect(timesSeen(path)).toBe(1);
  expect(second.headers.age).toBe("0");
  expect(second.headers["cache-control"]).toBe("public, max-age=0, s-maxage=1");
  // Every answer keeps the edge's own headers, its own request id included.
  expect(second.headers["x-content-type-options"]).toBe("nosniff");
  expect(second.headers["x-request-id"]).toBeDefined();
  expect(second.headers["x-request-id"]).not.toBe(first.headers["x-request-id"]);

  await sleep(300); // past the default TTL of 250 ms
  await httpCall(gateway.url, "GET", path);
  expect(timesSeen(path)).toBe(2);
});

test.each<[string, () => Promise<Record<string, string>>]>([
  ["with a token", async () => ({ authorization: `Bearer ${await signToken({ sub: "user-1" })}` })],
  ["asking for a fresh answer", async () => ({ "cache-control": "no-cache" })],
  ["from a browser's reload (max-age=0)", async () => ({ "cache-control": "max-age=0" })],
  ["conditional", async () => ({ "if-none-match": '"abc"' })],
])("a read %s always goes to the service", async (_, headers) => {
  const path = fresh("shared");
  await httpCall(gateway.url, "GET", path); // cached for anonymous readers
  const sent = await headers();
  await httpCall(gateway.url, "GET", path, { headers: sent });
  await httpCall(gateway.url, "GET", path, { headers: sent });
  expect(timesSeen(path)).toBe(3);
});

test("an answer the service does not mark public is never kept", async () => {
  const path = fresh("plain");
  await httpCall(gateway.url, "GET", path);
  await httpCall(gateway.url, "GET", path);
  expect(timesSeen(path)).toBe(2);
});

test("a write to another service (an order, a charge) leaves the catalog's answers cached", async () => {
  const path = fresh("shared");
  const user = { authorization: `Bearer ${await signToken({ sub: "user-9" })}`, "content-type": "application/json" };
  await httpCall(gateway.url, "GET", path);
  const charged = await httpCall(gateway.url, "POST", "/api/v1/users/user-9/balance/charges", { headers: { ...user, "idempotency-key": "k-1" }, body: "{}" });
  expect(charged.status).toBe(200);
  await httpCall(gateway.url, "GET", path);
  expect(timesSeen(path)).toBe(1);
});

test("a write that succeeds through the gateway to the catalog drops its cached answers; one that fails does not", async () => {
  const path = fresh("shared");
  const admin = { authorization: `Bearer ${await signToken({ sub: "ops", roles: ["admin"] })}`, "content-type": "application/json" };
  await httpCall(gateway.url, "GET", path);
  await httpCall(gateway.url, "POST", "/api/v1/admin/products/status/409", { headers: admin, body: "{}" });
  await httpCall(gateway.url, "GET", path);
  expect(timesSeen(path)).toBe(1);
  await httpCall(gateway.url, "PATCH", "/api/v1/admin/products/p-1", { headers: admin, body: "{}" });
  await httpCall(gateway.url, "GET", path);
  expect(timesSeen(path)).toBe(2);
});

test("RESPONSE_CACHE_TTL_MS=0 switches it off", async () => {
  const path = fresh("shared");
  await httpCall(uncached.url, "GET", path);
  await httpCall(uncached.url, "GET", path);
  expect(timesSeen(path)).toBe(2);
});

test("hits and misses are counted for the operator", async () => {
  const path = fresh("shared");
  await httpCall(gateway.url, "GET", path);
  await httpCall(gateway.url, "GET", path);
  const metrics = (await httpCall(gateway.url, "GET", "/metrics")).text;
  expect(metrics).toMatch(/gateway_response_cache_lookups_total\{outcome="hit"\} [1-9]/);
  expect(metrics).toMatch(/gateway_response_cache_lookups_total\{outcome="miss"\} [1-9]/);
});
