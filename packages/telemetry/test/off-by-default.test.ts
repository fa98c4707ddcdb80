import { createRequire } from "node:module";
import { trace } from "@opentelemetry/api";
import { telemetryConfigSchema } from "@shop/config";
import { sendInRecordSpans, startProcessSpans, startTelemetry, tracingSettings } from "../src/index.ts";

const configOf = (env: Record<string, string>) => telemetryConfigSchema.parse(env);

describe("what the standard variables ask for", () => {
  test("nothing set: tracing is off", () => {
    expect(tracingSettings(configOf({}), "wallet")).toBeUndefined();
  });

  test("an OTLP endpoint: OTLP/HTTP to its /v1/traces, named after the unit", () => {
    expect(tracingSettings(configOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }), "wallet")).toEqual({
      serviceName: "wallet",
      exporter: "otlp",
      url: "http://collector:4318/v1/traces",
      exportDelayMs: 5_000,
    });
  });

  test("a traces endpoint is used as it is and wins over the base endpoint; OTEL_SERVICE_NAME and the export delay are taken", () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9000/ingest",
      OTEL_SERVICE_NAME: "wallet-eu",
      OTEL_BSP_SCHEDULE_DELAY: "200",
    };
    expect(tracingSettings(configOf(env), "wallet")).toMatchObject({ serviceName: "wallet-eu", url: "http://traces:9000/ingest", exportDelayMs: 200 });
  });

  test("OTEL_TRACES_EXPORTER=otlp alone: the specification's local collector", () => {
    expect(tracingSettings(configOf({ OTEL_TRACES_EXPORTER: "otlp" }), "order")?.url).toBe("http://localhost:4318/v1/traces");
  });

  test("zipkin: its endpoint, by default a local Zipkin", () => {
    expect(tracingSettings(configOf({ OTEL_TRACES_EXPORTER: "zipkin" }), "order")).toMatchObject({
      exporter: "zipkin",
      url: "http://localhost:9411/api/v2/spans",
    });
    expect(tracingSettings(configOf({ OTEL_TRACES_EXPORTER: "zipkin", OTEL_EXPORTER_ZIPKIN_ENDPOINT: "http://zipkin:9411/api/v2/spans" }), "order")?.url).toBe(
      "http://zipkin:9411/api/v2/spans",
    );
  });

  test.each<Record<string, string>>([{ OTEL_TRACES_EXPORTER: "none" }, { OTEL_SDK_DISABLED: "true" }])("%p switches it off, endpoint or not", (off) => {
    expect(tracingSettings(configOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", ...off }), "wallet")).toBeUndefined();
  });

  test.each([{ OTEL_TRACES_EXPORTER: "jaeger" }, { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, { OTEL_BSP_SCHEDULE_DELAY: "0" }])(
    "%p is refused",
    (env) => {
      expect(telemetryConfigSchema.safeParse(env).success).toBe(false);
    },
  );
});

test("not configured, startTelemetry starts nothing: no tracer, nothing patched, the Kafka helpers pass through", async () => {
  expect(await startTelemetry(configOf({}), "wallet")).toBeUndefined();

  expect(trace.getTracer("test").startSpan("probe").isRecording()).toBe(false);
  const pg = createRequire(import.meta.url)("pg") as { Client: { prototype: { query: { __wrapped?: boolean } } } };
  expect(pg.Client.prototype.query.__wrapped).toBeUndefined();
  const headers = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
  expect(await sendInRecordSpans([{ topic: "t", messages: [{ headers }] }], async () => "sent")).toBe("sent");
  expect(headers.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  expect(startProcessSpans("t", "group", [{ key: "k", partition: 0, offset: "1", headers }])).toBeUndefined();
});
