// Spans that follow one record through Kafka, for the places where kafkajs's instrumentation
// cannot: a send carries records of many orders, and so does a consumed batch.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";

/** Set once the SDK runs (sdk.ts); while it is not, every helper here is a plain pass-through. */
let tracing: { tracer: Tracer; suppress: (context: Context) => Context } | undefined;

export function useTracer(tracer: Tracer, suppress: (context: Context) => Context): void {
  tracing = { tracer, suppress };
}

type Headers = Record<string, string | Buffer | undefined>;

/** Reads Kafka headers, whose values may be bytes. */
const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers[key]?.toString(),
  keys: (headers) => Object.keys(headers),
};

const contextOf = (headers: Headers): Context => propagation.extract(ROOT_CONTEXT, headers, headerGetter);

function traceparentOf(span: Span): string {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent!;
}

function failAll(spans: Span[], error: unknown): void {
  for (const span of spans) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
}

const kafkaAttributes = (topic: string, operation: "send" | "process", key: string | Buffer | null | undefined): Attributes => ({
  "messaging.system": "kafka",
  "messaging.destination.name": topic,
  "messaging.operation.type": operation,
  "messaging.operation.name": operation,
  ...(key ? { "messaging.kafka.message.key": key.toString() } : {}),
});

/** Records of one topic, as kafkajs's sendBatch takes them. */
export interface TopicRecords {
  topic: string;
  /** `headers` go with the record; their `traceparent` is replaced by the record's send span. */
  messages: { key?: string | Buffer | null; headers: Headers }[];
}

/**
 * Runs `send` (one produce request for all of `batch`) with a send span per record, each a child
 * of the trace context the record's `traceparent` header carries (for a relayed outbox row: the
 * work that wrote the row), or of the active one when it has none. Each span's context replaces
 * the header, so the consumer goes on from the send. kafkajs's instrumentation is suppressed for
 * this send: it would parent every record on the one context active at the call (none, in the
 * relay's loop) and overwrite the headers with it.
 */
export async function sendInRecordSpans<T>(batch: readonly TopicRecords[], send: () => Promise<T>): Promise<T> {
  if (!tracing) return send();
  const { tracer, suppress } = tracing;
  const spans = batch.flatMap(({ topic, messages }) =>
    messages.map((record) => {
      const parent = record.headers.traceparent === undefined ? context.active() : contextOf(record.headers);
      const span = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: kafkaAttributes(topic, "send", record.key) }, parent);
      record.headers.traceparent = traceparentOf(span);
      return span;
    }),
  );
  try {
    return await context.with(suppress(context.active()), send);
  } catch (error) {
    failAll(spans, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

export interface ConsumedRecord {
  key: string | null;
  partition: number;
  offset: string;
  headers: Headers;
}

export interface ProcessSpans {
  /** Record i's span as a `traceparent`: the trace context of the work the record causes. */
  traceparents: string[];
  /** Ends the spans; with an error, as failed. */
  end(error?: unknown): void;
}

/**
 * A process span per record of a consumed batch, each a child of the context its record came with,
 * or undefined when the process does not trace. A batch holds records of many orders: this way
 * each order's trace goes on through this service, while the batch's own work (its database
 * transaction) stays under the span kafkajs's instrumentation opens for the batch, which links to
 * every record's send span.
 */
export function startProcessSpans(topic: string, consumerGroup: string, records: readonly ConsumedRecord[]): ProcessSpans | undefined {
  if (!tracing) return undefined;
  const { tracer } = tracing;
  const spans = records.map((record) =>
    tracer.startSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...kafkaAttributes(topic, "process", record.key),
          "messaging.consumer.group.name": consumerGroup,
          "messaging.destination.partition.id": String(record.partition),
          "messaging.kafka.offset": Number(record.offset),
        },
      },
      contextOf(record.headers),
    ),
  );
  return {
    traceparents: spans.map(traceparentOf),
    end(error) {
      if (error !== undefined) failAll(spans, error);
      for (const span of spans) span.end();
    },
  };
}
