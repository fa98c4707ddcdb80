// Tracing end to end: every unit exports its spans to an OTLP receiver of the test, and one order
// placed through the gateway is one trace, across the HTTP calls and every Kafka hop of its saga.
import { SPAN_KIND, eventually, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "@shop/testing";
import { ApiClient } from "./support/api.ts";
import { Shop } from "./support/fixtures.ts";
import { startTestSystem, type TestSystem } from "./support/system.ts";

const E2E_TIMEOUT_MS = 180_000;
const UNITS = ["gateway", "order", "wallet", "catalog", "payment", "coupon"];
let receiver: OtlpReceiver;
let system: TestSystem;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  system = await startTestSystem({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" } });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await system?.stop();
  await receiver?.close();
}, E2E_TIMEOUT_MS);

const kafkaSpan = (kind: number) => (span: ReceivedSpan) => span.kind === kind && span.attributes["messaging.system"] === "kafka";

test(
  "an order placed through the gateway is one trace, with spans of the gateway and of all five services",
  async () => {
    const shop = await Shop.at(system.gatewayUrl);
    const product = await shop.product({ price: 10_000, stock: 5 });
    const user = await ApiClient.as(system.gatewayUrl);
    const userCouponId = await Shop.issue(user, await shop.percentCoupon(10));
    expect((await user.charge(50_000)).status).toBe(201);

    const placed = await user.order([{ productId: product.id, quantity: 1 }], { userCouponId, wait: 10 });
    expect(placed.body).toMatchObject({ status: "COMPLETED" });
    // The gateway's answer names the trace, as its access log line does.
    const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(placed.headers.get("traceparent") ?? "")?.[1];
    expect(traceId).toBeDefined();
    const trace = () => receiver.spans.filter((span) => span.traceId === traceId);

    // Spans come in as they end, process by process: wait for the whole tree. It is one tree, not
    // pieces that share an id: every span's parent is in the trace, but the gateway's server span's.
    await eventually(() => {
      const spans = trace();
      const ids = new Set(spans.map((span) => span.spanId));
      expect(spans.filter((span) => !span.parentSpanId || !ids.has(span.parentSpanId))).toEqual([
        expect.objectContaining({ service: "gateway", kind: SPAN_KIND.SERVER }),
      ]);
      expect(new Set(spans.map((span) => span.service))).toEqual(new Set(UNITS));
      // The coupon service's last part comes after the answer: the order's completion, consumed.
      expect(spans.filter((span) => span.service === "coupon").some(kafkaSpan(SPAN_KIND.CONSUMER))).toBe(true);
    }, 30_000);
    const spans = trace();
    // The real instrumentations: http (servers and the gateway's calls), express, pg, ioredis (the gateway's rate limiter), Kafka each way.
    expect(spans.filter((span) => span.kind === SPAN_KIND.SERVER).map((span) => span.service)).toEqual(expect.arrayContaining(["gateway", "order", "catalog"]));
    expect(spans.some((span) => span.attributes["express.type"] === "request_handler")).toBe(true);
    expect(spans.some((span) => span.attributes["db.system.name"] === "postgresql")).toBe(true);
    expect(spans.some((span) => span.attributes["db.system.name"] === "redis")).toBe(true);
    for (const service of ["order", "wallet", "catalog", "payment"]) {
      expect(spans.filter((span) => span.service === service).some(kafkaSpan(SPAN_KIND.PRODUCER))).toBe(true);
    }
    for (const service of ["wallet", "catalog", "payment", "order", "coupon"]) {
      expect(spans.filter((span) => span.service === service).some(kafkaSpan(SPAN_KIND.CONSUMER))).toBe(true);
    }
  },
  E2E_TIMEOUT_MS,
);
