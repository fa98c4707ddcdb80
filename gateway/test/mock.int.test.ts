// `npm run mock` (scripts/mock.mjs): Prism serving docs/openapi.json, answering with its examples
// and refusing what the document does not allow the way the API does.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort, signToken } from "@shop/testing";

type Json = Record<string, any>;

const root = fileURLToPath(new URL("../..", import.meta.url));
const document = JSON.parse(readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8")) as Json;
const exampleOf = (path: string, method: string, status: number) => document.paths[path][method].responses[String(status)].content["application/json"].example;

let mock: ChildProcess;
let base: string;
let output = "";

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}/api/v1`;
  mock = spawn(process.execPath, ["scripts/mock.mjs"], { cwd: root, env: { ...process.env, MOCK_PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  mock.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  mock.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const started = Date.now();
  while (!output.includes("[mock] the API")) {
    if (mock.exitCode !== null || Date.now() - started > 45_000) throw new Error(`npm run mock did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 60_000);

afterAll(async () => {
  if (!mock || mock.exitCode !== null) return;
  const exited = new Promise((resolve) => mock.once("exit", resolve));
  mock.kill("SIGTERM");
  await exited;
});

async function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, type: response.headers.get("content-type"), allow: response.headers.get("allow"), body: (await response.json()) as Json };
}

test("a valid request gets the document's example", async () => {
  const products = await call("GET", "/products?limit=5");
  expect(products).toMatchObject({ status: 200, body: exampleOf("/api/v1/products", "get", 200) });
  const balance = await call("GET", "/users/minji/balance", { token: await signToken({ sub: "minji" }) });
  expect(balance).toMatchObject({ status: 200, body: exampleOf("/api/v1/users/{userId}/balance", "get", 200) });
  const order = await call("POST", "/users/minji/orders", {
    token: await signToken({ sub: "minji" }),
    headers: { "idempotency-key": "mock-order-1" },
    body: { items: [{ productId: "p_0mvxln6o0b08d33f25303", quantity: 1 }] },
  });
  expect(order.status).toBe(201);
  expect(order.body).toMatchObject({ status: "COMPLETED", totalAmount: 22_410 });
});

test("requests are checked against the document: a 400 naming the fields, 401 without a token, 415 for a body that is not JSON", async () => {
  const invalid = await call("POST", "/users/minji/orders", { token: await signToken({ sub: "minji" }), body: { items: [] } });
  expect(invalid.status).toBe(400);
  expect(invalid.type).toContain("application/problem+json");
  expect(invalid.body.code).toBe("VALIDATION_FAILED");
  expect(invalid.body.errors.map((e: Json) => e.field).sort()).toEqual(["body.items", "header.idempotency-key"]);
  expect((await call("GET", "/products?limit=0")).body.errors).toEqual([expect.objectContaining({ field: "query.limit" })]);
  expect(await call("GET", "/users/minji/balance")).toMatchObject({ status: 401, body: { code: "UNAUTHORIZED" } });
  const text = await fetch(`${base}/users/minji/balance/charges`, {
    method: "POST",
    headers: { authorization: `Bearer ${await signToken({ sub: "minji" })}`, "content-type": "text/plain" },
    body: "1000",
  });
  expect({ status: text.status, code: ((await text.json()) as Json).code }).toEqual({ status: 415, code: "UNSUPPORTED_MEDIA_TYPE" });
});

test("a wrong method is 405 with Allow, an unknown path 404, and Prefer picks any documented answer", async () => {
  expect(await call("DELETE", "/products")).toMatchObject({ status: 405, allow: "GET, HEAD, OPTIONS", body: { code: "METHOD_NOT_ALLOWED" } });
  expect(await call("GET", "/nothing")).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
  const soldOut = await call("POST", "/users/minji/coupons", {
    token: await signToken({ sub: "minji" }),
    headers: { prefer: "code=409, example=COUPON_SOLD_OUT" },
    body: { couponId: "3f6c2a8e-1b4d-4e7a-9c52-8d0f1e2a3b4c" },
  });
  expect(soldOut).toMatchObject({ status: 409, body: { code: "COUPON_SOLD_OUT" } });
});
