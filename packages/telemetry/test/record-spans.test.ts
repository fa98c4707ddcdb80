import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { SpanKind, context, propagation } from "@opentelemetry/api";
import { W3CTraceContextPropagator, suppressTracing } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { sendInRecordSpans, startProcessSpans, useTracer } from "../src/spans.ts";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
useTracer(provider.getTracer("test"), suppressTracing);
afterEach(() => exporter.reset());

const ORDER_A = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const ORDER_B = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

test("one send of records of two orders: a send span in each order's trace, whose context the record then carries", async () => {
  const records = [ORDER_A, ORDER_B].map((traceparent, i) => ({
    key: `order-${i}`,
    headers: { "event-type": "OrderPlaced", traceparent },
  }));

  await sendInRecordSpans([{ topic: "order-placed", messages: records }], async () => undefined);

  const spans = exporter.getFinishedSpans();
  expect(spans.map((s) => [s.name, s.kind, s.spanContext().traceId, s.parentSpanContext?.spanId])).toEqual([
    ["send order-placed", SpanKind.PRODUCER, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"],
    ["send order-placed", SpanKind.PRODUCER, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"],
  ]);
  expect(records.map((r) => TRACEPARENT.exec(r.headers.traceparent)?.slice(1))).toEqual(spans.map((s) => [s.spanContext().traceId, s.spanContext().spanId]));
});

test("a failed send marks every record's span as failed", async () => {
  await expect(
    sendInRecordSpans([{ topic: "t", messages: [{ headers: { traceparent: ORDER_A } }] }], () => Promise.reject(new Error("broker away"))),
  ).rejects.toThrow();
  expect(exporter.getFinishedSpans()[0]!.status).toMatchObject({ code: 2, message: "broker away" });
});

test("a consumed batch of two orders: a process span per record in its own trace, and its context for the work the record causes", () => {
  const spans = startProcessSpans("order-placed", "wallet", [
    { key: "order-0", partition: 3, offset: "41", headers: { traceparent: ORDER_A } },
    { key: "order-1", partition: 3, offset: "42", headers: { traceparent: Buffer.from(ORDER_B) } },
  ])!;
  spans.end();

  const finished = exporter.getFinishedSpans();
  expect(finished.map((s) => [s.name, s.kind, s.spanContext().traceId, s.parentSpanContext?.spanId, s.attributes["messaging.kafka.offset"]])).toEqual([
    ["process order-placed", SpanKind.CONSUMER, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", 41],
    ["process order-placed", SpanKind.CONSUMER, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 42],
  ]);
  expect(spans.traceparents.map((t) => TRACEPARENT.exec(t)?.slice(1))).toEqual(finished.map((s) => [s.spanContext().traceId, s.spanContext().spanId]));
});
