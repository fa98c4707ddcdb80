import type { IncomingMessage } from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { context, isSpanContextValid, propagation, trace } from "@opentelemetry/api";
import { useActiveSpanAsTrace, type TraceContext } from "@shop/logging";
import type { TracingSettings } from "./settings.ts";
import { useTracer } from "./spans.ts";

/** What the instrumentations patch: Node's http module and these npm packages. */
const INSTRUMENTED_MODULES = ["http", "express", "pg", "ioredis", "kafkajs"];

/** Probes and scrapes come every few seconds from machines: a trace each would bury the real ones. */
const UNTRACED_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
const pathOf = (url = "") => url.split("?", 1)[0]!;

/**
 * Starts the OpenTelemetry SDK for the whole process: the tracer provider exporting in batches,
 * W3C trace context propagation, and the instrumentations of http, express, pg, ioredis and
 * kafkajs. Returns how to flush and stop it.
 *
 * Every OpenTelemetry package but the API is imported here, dynamically: a process that does not
 * trace never loads them, and the bundles (scripts/build.mjs) keep such an import as it is.
 */
export async function startSdk(settings: TracingSettings): Promise<() => Promise<void>> {
  const [sdk, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator, suppressTracing }, resources, { registerInstrumentations }] = await Promise.all(
    [
      import("@opentelemetry/sdk-trace"),
      import("@opentelemetry/context-async-hooks"),
      import("@opentelemetry/core"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/instrumentation"),
    ],
  );
  const [{ HttpInstrumentation }, { ExpressInstrumentation, ExpressLayerType }, { PgInstrumentation }, { IORedisInstrumentation }, { KafkaJsInstrumentation }] =
    await Promise.all([
      import("@opentelemetry/instrumentation-http"),
      import("@opentelemetry/instrumentation-express"),
      import("@opentelemetry/instrumentation-pg"),
      import("@opentelemetry/instrumentation-ioredis"),
      import("@opentelemetry/instrumentation-kafkajs"),
    ]);
  const exporter =
    settings.exporter === "zipkin"
      ? new (await import("@opentelemetry/exporter-zipkin")).ZipkinExporter({ url: settings.url, serviceName: settings.serviceName })
      : new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter({ url: settings.url });

  const provider = new sdk.TracerProvider({
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ "service.name": settings.serviceName })),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, scheduledDelayMillis: settings.exportDelayMs })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.has(pathOf(request.url)),
        // The schema registry client's calls from the outbox relay's loop would each be a trace of one span.
        requireParentforOutgoingSpans: true,
      }),
      // Only the route handlers: a span per middleware (JSON body, access log, …) says little and costs a lot.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
      // Without a parent, a query is the relay's polling or a periodic job: not a trace worth keeping.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new KafkaJsInstrumentation(),
    ],
  });
  patchLoadedModules();
  useTracer(provider.getTracer("@shop/telemetry"), suppressTracing);
  useActiveSpanAsTrace(activeSpanTrace);
  return () => provider.shutdown();
}

/**
 * The instrumentations hook `require`, but the units are ES modules that imported pg, express, …
 * before tracing started (and the bundles import them before any of their own code runs). An ES
 * import of a CommonJS package shares `require`'s module object, so requiring each once more hands
 * that very object to the hooks, which patch it in place (prototypes and module functions);
 * syncBuiltinESMExports then gives `import { request } from "node:http"` the patched function.
 */
function patchLoadedModules(): void {
  const require = createRequire(import.meta.url);
  for (const name of INSTRUMENTED_MODULES) require(name);
  syncBuiltinESMExports();
}

function activeSpanTrace(): TraceContext | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? { traceId: span.traceId, spanId: span.spanId } : undefined;
}
