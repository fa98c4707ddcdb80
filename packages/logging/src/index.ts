import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger, LevelWithSilent };

/** W3C trace context of the work in progress: an HTTP request or a consumed event. */
export interface TraceContext {
  traceId: string;
  spanId: string;
}

const traceStorage = new AsyncLocalStorage<TraceContext>();

/**
 * The span OpenTelemetry has active, when it traces this process (@shop/telemetry sets this): log
 * lines and the trace context handed on then carry OpenTelemetry's ids. Unset, this module's own
 * context is the only one, at no cost.
 */
let activeSpan: (() => TraceContext | undefined) | undefined;

export function useActiveSpanAsTrace(source: () => TraceContext | undefined): void {
  activeSpan = source;
}

export function currentTrace(): TraceContext | undefined {
  return activeSpan?.() ?? traceStorage.getStore();
}

export function runWithTrace<T>(trace: TraceContext, fn: () => T): T {
  return traceStorage.run(trace, fn);
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

// Trace and span ids for every request and event: drawn from a pooled random buffer, because one
// randomBytes call per id was a visible share of a request's CPU.
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomPool = randomBytes(4096);
    randomOffset = 0;
  }
  const hex = randomPool.toString("hex", randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return hex;
}

/**
 * Continues the caller's trace with a new span, or starts a new trace when the header is absent or
 * malformed. When OpenTelemetry traces the process, its instrumentation has already continued the
 * caller's trace: its active span is the answer.
 */
export function traceFromTraceparent(header: string | undefined): TraceContext {
  const active = activeSpan?.();
  if (active) return active;
  const match = header ? TRACEPARENT.exec(header.trim()) : null;
  return { traceId: match?.[1] ?? randomHex(16), spanId: randomHex(8) };
}

export function toTraceparent(trace: TraceContext | undefined = currentTrace()): string {
  const t = trace ?? { traceId: randomHex(16), spanId: randomHex(8) };
  return `00-${t.traceId}-${t.spanId}-01`;
}

export function createLogger(service: string, level: LevelWithSilent = "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const trace = currentTrace();
      return trace ? { traceId: trace.traceId, spanId: trace.spanId } : {};
    },
  });
}
