import type { TelemetryConfig } from "@shop/config";
import { startSdk } from "./sdk.ts";
import { tracingSettings, type TracingSettings } from "./settings.ts";

export { tracingSettings, type TracingSettings } from "./settings.ts";
export { sendInRecordSpans, startProcessSpans, type ConsumedRecord, type TopicRecords, type ProcessSpans } from "./spans.ts";

export interface Telemetry {
  settings: TracingSettings;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing in this process for the unit `unitName` when its configuration asks for it (see
 * tracingSettings); call it once, before the unit opens anything. Returns undefined when tracing is
 * off: then no SDK is loaded and nothing is patched.
 */
export async function startTelemetry(config: TelemetryConfig, unitName: string): Promise<Telemetry | undefined> {
  const settings = tracingSettings(config, unitName);
  if (!settings) return undefined;
  return { settings, shutdown: await startSdk(settings) };
}
