import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import request from "supertest";
import { z } from "zod";
import { metricValue } from "@shop/testing";
import { createServiceApp, defineRoute, type RouteSpec } from "../src/index.ts";

/** Every line the app logged, parsed. */
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const logger = pino({ level: "info", formatters: { level: (label) => ({ level: label }) } }, sink);

const routes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/v1/users/:userId/orders/:orderId",
    summary: "One order",
    access: "public",
    params: z.object({ userId: z.string(), orderId: z.string().regex(/^o-/) }),
    responses: { 200: { description: "The order" } },
    handler: ({ params }) => ({ status: 200, body: { orderId: params.orderId } }),
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/users/:userId/orders",
    summary: "Place an order",
    access: "public",
    params: z.object({ userId: z.string() }),
    body: z.object({ quantity: z.number().int().min(1) }),
    responses: { 201: { description: "Placed" } },
    handler: () => ({ status: 201, body: { orderId: "o-created", status: "PENDING" } }),
  }),
];

const registry = new Registry();
const app = createServiceApp({ service: "obs", logger, routes, openApi: { title: "obs", version: "1" }, metrics: registry });
const metrics = async () => (await request(app).get("/metrics")).text;
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const traceparent = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

test("a request that fails validation is labelled with its route, not `unmatched`", async () => {
  const answer = await request(app).post("/api/v1/users/u1/orders").set("content-type", "application/json").send({ quantity: 0 });
  expect(answer.status).toBe(400);
  const route = "/api/v1/users/:userId/orders";
  expect(metricValue(await metrics(), "http_request_duration_seconds_count", { service: "obs", method: "POST", route, status: "400" })).toBe(1);
  expect(metricValue(await metrics(), "http_request_duration_seconds_count", { route: "unmatched", status: "400" })).toBeUndefined();
});

test("only a path no route has is `unmatched`", async () => {
  expect((await request(app).get("/api/v1/nothing-here")).status).toBe(404);
  expect(metricValue(await metrics(), "http_request_duration_seconds_count", { route: "unmatched", status: "404" })).toBe(1);
});

test("every request gets one access line with its trace id and the order it names", async () => {
  lines.length = 0;
  const answer = await request(app).get("/api/v1/users/u1/orders/o-42").set("traceparent", traceparent);
  expect(answer.status).toBe(200);
  await new Promise((resolve) => setImmediate(resolve));
  const access = lines.filter((line) => line.msg === "request");
  expect(access).toEqual([
    expect.objectContaining({
      level: "info",
      traceId: TRACE_ID,
      method: "GET",
      route: "/api/v1/users/:userId/orders/:orderId",
      status: 200,
      userId: "u1",
      orderId: "o-42",
      durationMs: expect.any(Number),
    }),
  ]);
  expect(access[0]!.requestId).toBe(answer.headers["x-request-id"]);
});

test("the access line of a placement carries the order id it created", async () => {
  lines.length = 0;
  expect((await request(app).post("/api/v1/users/u1/orders").set("traceparent", traceparent).send({ quantity: 1 })).status).toBe(201);
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines.filter((line) => line.msg === "request")).toEqual([
    expect.objectContaining({ traceId: TRACE_ID, route: "/api/v1/users/:userId/orders", status: 201, orderId: "o-created" }),
  ]);
});

test("probes and scrapes get no access line; the level is configurable, silent switches it off", async () => {
  lines.length = 0;
  await request(app).get("/healthz");
  await request(app).get("/metrics");
  expect(lines.filter((line) => line.msg === "request")).toEqual([]);

  const quiet = createServiceApp({ service: "obs", logger, routes, openApi: { title: "obs", version: "1" }, accessLogLevel: "debug" });
  await request(quiet).get("/api/v1/users/u1/orders/o-1");
  const off = createServiceApp({ service: "obs", logger, routes, openApi: { title: "obs", version: "1" }, accessLogLevel: "silent" });
  await request(off).get("/api/v1/users/u1/orders/o-1");
  // The logger is at info: the debug line is filtered, the silent one never written.
  expect(lines.filter((line) => line.msg === "request")).toEqual([]);

  const loud = createServiceApp({ service: "obs", logger, routes, openApi: { title: "obs", version: "1" }, accessLogLevel: "warn" });
  await request(loud).get("/api/v1/users/u1/orders/o-1");
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines.filter((line) => line.msg === "request")).toEqual([expect.objectContaining({ level: "warn", orderId: "o-1" })]);
});
