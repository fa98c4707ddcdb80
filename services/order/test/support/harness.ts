import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { authHeadersFor, TestEventPublisher, build, createTestSchema, silentLogger, type TestSchema } from "@shop/testing";
import { loadOrderConfig } from "../../src/config.ts";
import { start, type RunningOrder } from "../../src/main.ts";
import type { UpstreamStandIn } from "./upstream-stand-in.ts";

export const migrationsDir = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

export const newTestSchema = (label: string): Promise<TestSchema> => createTestSchema({ migrationsDir, label });

/** An order service on a free port against the test schema, the stand-in upstreams and (if a prefix is given) real Kafka. */
export function startOrderService(db: TestSchema, upstream: UpstreamStandIn, env: Record<string, string> = {}): Promise<RunningOrder> {
  return start(
    loadOrderConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      LOG_LEVEL: "error",
      CATALOG_URL: upstream.url,
      COUPON_URL: upstream.url,
      // Generous: on a loaded test machine a stand-in call can take a while, and no test relies on timing out.
      UPSTREAM_TIMEOUT_MS: "3000",
      UPSTREAM_BREAKER_RESET_MS: "300",
      DB_POOL_SIZE: "20",
      ...env,
    }),
    silentLogger,
  );
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  headers: Headers;

  body: any;
}

export function httpClient(baseUrl: () => string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(await authHeadersFor(path)), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get("content-type") ?? "",
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };
}

let userSeq = 0;
export const newUser = (label = "u") => `${label}-${Date.now().toString(36)}-${++userSeq}`;
export const newKey = () => `key-${randomUUID()}`;

/** Plays the other saga participants: publishes their events as they would, through the registry. */
export const SagaDriver = { connect: (prefix: string) => TestEventPublisher.connect(prefix, silentLogger) };
export type SagaDriver = TestEventPublisher;

type OrderRef = { orderId: string; userId: string; totalAmount: number; items: { productId: string; quantity: number; unitPrice: number }[] };
const sagaItems = (o: OrderRef) => o.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice }));
const ids = (o: OrderRef) => ({ orderId: o.orderId, userId: o.userId });

/** The events the other participants would send for an order (the kit's builders, filled from the order). */
export const sagaEvents = {
  balanceDebited: (o: OrderRef) => build.balanceDebited({ ...ids(o), amount: o.totalAmount, items: sagaItems(o) }),
  balanceDebitFailed: (o: OrderRef) => build.balanceDebitFailed(ids(o)),
  stockReserved: (o: OrderRef) => build.stockReserved({ ...ids(o), amount: o.totalAmount, items: sagaItems(o) }),
  stockReservationFailed: (o: OrderRef) => build.stockReservationFailed({ ...ids(o), productId: o.items[0]!.productId }),
  paymentCompleted: (o: OrderRef, paymentId = randomUUID()) => build.paymentCompleted({ ...ids(o), paymentId, amount: o.totalAmount }),
  paymentFailed: (o: OrderRef) => build.paymentFailed(ids(o)),
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
