import CircuitBreaker from "opossum";
import { Gauge, type Registry } from "prom-client";
import { Agent, request } from "undici";
import { DomainError } from "@shop/errors";
import type { Logger } from "@shop/logging";
import { ServiceUnavailableError } from "../domain/errors.ts";

export interface UpstreamOptions {
  baseUrl: string;
  /** Per call; the request is aborted when it passes. */
  timeoutMs: number;
  /** How long an open circuit fails fast before it lets one trial call through. */
  resetTimeoutMs: number;
  logger: Logger;
  /** The `Authorization` value proving this is the order service (the upstreams trust no one else). */
  credentials: () => Promise<string>;
}

/**
 * Wraps calls to another service in a circuit breaker: after repeated failures (errors, 5xx,
 * timeouts) calls fail at once for a while instead of piling up on a sick dependency. Business
 * answers (DomainErrors such as unknown products) are not failures of the dependency.
 */
export class GuardedUpstream<TArgs extends unknown[], TResult> {
  private readonly breaker: CircuitBreaker<TArgs, TResult>;

  constructor(
    private readonly dependency: ServiceUnavailableError["dependency"],
    action: (...args: TArgs) => Promise<TResult>,
    private readonly options: UpstreamOptions,
  ) {
    this.breaker = new CircuitBreaker(action, {
      name: dependency,
      // The request is aborted at timeoutMs; this is the breaker's own backstop.
      timeout: options.timeoutMs + 250,
      resetTimeout: options.resetTimeoutMs,
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      rollingCountTimeout: 10_000,
      errorFilter: (error: unknown) => error instanceof DomainError,
    });
    this.breaker.on("open", () => options.logger.warn({ upstream: dependency }, "circuit opened: calls fail fast"));
    this.breaker.on("halfOpen", () => options.logger.info({ upstream: dependency }, "circuit half-open: trying one call"));
    this.breaker.on("close", () => options.logger.info({ upstream: dependency }, "circuit closed"));
  }

  get isOpen(): boolean {
    return this.breaker.opened;
  }

  /** The action's result or its DomainError; anything else (including an open circuit) is SERVICE_UNAVAILABLE. */
  async call(...args: TArgs): Promise<TResult> {
    try {
      return await this.breaker.fire(...args);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      this.options.logger.warn({ err: error, upstream: this.dependency }, "upstream call failed");
      throw new ServiceUnavailableError(this.dependency);
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}

/**
 * Keep-alive connections to the upstreams, through undici's plain request API: a call on every
 * placement, and `fetch`'s streams and Headers objects cost several times as much CPU for nothing
 * this client needs.
 */
const upstreamAgent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });

/** POSTs JSON with the service credential, the caller's trace and a deadline; returns the status and the parsed body (if any). */
export async function postJson(
  url: string,
  body: unknown,
  options: Pick<UpstreamOptions, "timeoutMs" | "credentials">,
  traceparent: string,
): Promise<{ status: number; body: unknown }> {
  const response = await request(url, {
    method: "POST",
    dispatcher: upstreamAgent,
    headers: {
      "content-type": "application/json",
      accept: "application/json, application/problem+json",
      authorization: await options.credentials(),
      traceparent,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const text = await response.body.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.statusCode, body: parsed };
}

/**
 * `order_upstream_circuit_open{upstream}`: 1 while the order service's breaker for that upstream
 * is open (its placements answer 503 SERVICE_UNAVAILABLE without calling it).
 */
export function registerCircuitGauge(registry: Registry, circuits: Record<string, { readonly circuitOpen: boolean }>): void {
  new Gauge({
    name: "order_upstream_circuit_open",
    help: "1 while the order service's circuit breaker for an upstream (catalog, coupon) is open",
    labelNames: ["service", "upstream"],
    registers: [registry],
    collect() {
      for (const [upstream, circuit] of Object.entries(circuits)) this.set({ service: "order", upstream }, circuit.circuitOpen ? 1 : 0);
    },
  });
}
