import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { topicOf, type EventName, type EventPayloads } from "@shop/events";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import { createTestSchema, silentLogger, testInfra, type TestSchema } from "@shop/testing";
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
      UPSTREAM_TIMEOUT_MS: "1000",
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
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get("content-type") ?? "", headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
}

let userSeq = 0;
export const newUser = (label = "u") => `${label}-${Date.now().toString(36)}-${++userSeq}`;
export const newKey = () => `key-${randomUUID()}`;

/** Plays the other saga participants: publishes their events as they would, through the registry. */
export class SagaDriver {
  private constructor(
    private readonly publisher: EventPublisher,
    private readonly prefix: string,
  ) {}

  static async connect(prefix: string): Promise<SagaDriver> {
    const publisher = new EventPublisher(createKafka(`order-test-${prefix}`, testInfra.brokers, silentLogger), EventCodec.forUrl(testInfra.registryUrl, prefix));
    await publisher.connect();
    return new SagaDriver(publisher, prefix);
  }

  send<E extends EventName>(type: E, payload: EventPayloads[E]): Promise<void> {
    return this.publisher.publish([{ eventType: type, topic: topicOf(type, this.prefix), key: (payload as { orderId: string }).orderId, payload }]);
  }

  disconnect(): Promise<void> {
    return this.publisher.disconnect();
  }
}

const envelope = () => ({ eventId: randomUUID(), occurredAt: new Date().toISOString() });
type OrderRef = { orderId: string; userId: string; totalAmount: number; items: { productId: string; quantity: number; unitPrice: number }[] };
const sagaItems = (o: OrderRef) => o.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice }));

/** Test data builders: each participant's event about an order, with a fresh eventId. */
export const sagaEvents = {
  balanceDebited: (o: OrderRef): EventPayloads["BalanceDebited"] => ({ ...envelope(), orderId: o.orderId, userId: o.userId, amount: o.totalAmount, items: sagaItems(o) }),
  balanceDebitFailed: (o: OrderRef): EventPayloads["BalanceDebitFailed"] => ({ ...envelope(), orderId: o.orderId, userId: o.userId, reason: "INSUFFICIENT_BALANCE", detail: "" }),
  stockReserved: (o: OrderRef): EventPayloads["StockReserved"] => ({ ...envelope(), orderId: o.orderId, userId: o.userId, amount: o.totalAmount, items: sagaItems(o) }),
  stockReservationFailed: (o: OrderRef): EventPayloads["StockReservationFailed"] => ({ ...envelope(), orderId: o.orderId, userId: o.userId, reason: "OUT_OF_STOCK", detail: "", productId: o.items[0]!.productId }),
  paymentCompleted: (o: OrderRef, paymentId = randomUUID()): EventPayloads["PaymentCompleted"] => ({ ...envelope(), orderId: o.orderId, userId: o.userId, paymentId, amount: o.totalAmount }),
  paymentFailed: (o: OrderRef): EventPayloads["PaymentFailed"] => ({ ...envelope(), orderId: o.orderId, userId: o.userId, reason: "PAYMENT_FAILED", detail: "" }),
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
