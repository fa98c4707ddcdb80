import type { TelemetryConfig } from "@shop/config";

/** Where a process that traces sends its spans. */
export interface TracingSettings {
  /** The spans' `service.name`. */
  serviceName: string;
  exporter: "otlp" | "zipkin";
  /** The URL the exporter posts the spans to. */
  url: string;
  /** Milliseconds between two exports. */
  exportDelayMs: number;
}

/** Where OTLP/HTTP goes when OTEL_TRACES_EXPORTER=otlp names no endpoint (the specification's default). */
const DEFAULT_OTLP_ENDPOINT = "http://localhost:4318";

/**
 * What OpenTelemetry's standard variables ask of the unit `unitName`, or undefined when tracing is
 * off: OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none, or neither an exporter nor an OTLP
 * endpoint configured (the default: a process traces only when told where to).
 */
export function tracingSettings(config: TelemetryConfig, unitName: string): TracingSettings | undefined {
  if (config.OTEL_SDK_DISABLED) return undefined;
  const otlpUrl =
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (config.OTEL_EXPORTER_OTLP_ENDPOINT ? `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces` : undefined);
  const exporter = config.OTEL_TRACES_EXPORTER || (otlpUrl ? "otlp" : "none");
  if (exporter === "none") return undefined;
  return {
    serviceName: config.OTEL_SERVICE_NAME || unitName,
    exporter,
    url: exporter === "zipkin" ? config.OTEL_EXPORTER_ZIPKIN_ENDPOINT : (otlpUrl ?? `${DEFAULT_OTLP_ENDPOINT}/v1/traces`),
    exportDelayMs: config.OTEL_BSP_SCHEDULE_DELAY,
  };
}
