import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import CircuitBreaker from "opossum";
import { Pool, errors as undiciErrors, type Dispatcher } from "undici";
import type { Logger } from "@shop/logging";
import { writeProblem } from "./problem-response.ts";

/** Request headers never copied from the client: hop-by-hop ones (RFC 9110 §7.6.1) and the ones the gateway sets itself. */
const NOT_COPIED_REQUEST_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "host",
  // The gateway forwards the body it buffered, framed by its own content-length.
  "content-length",
  // Services verify the forwarded Authorization themselves; a client-sent identity header must never reach them.
  "x-user-id",
  "x-user-roles",
  // Replaced by the gateway's own (the id checked, the trace continued).
  "x-request-id",
  "traceparent",
]);
const HOP_BY_HOP_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "trailer", "proxy-connection"]);
/**
 * What a `Connection` header can never remove: message framing, and the credentials the gateway's
 * decision was based on (the service must check the very token the gateway checked).
 */
const PROTECTED_FROM_CONNECTION_TOKENS = new Set(["content-length", "transfer-encoding", "host", "authorization", "x-request-id", "traceparent"]);

/** Only these upstream answers mean the upstream is unwell; a 500 is a bug that a client may be able to trigger at will. */
const BREAKER_FAILURE_STATUSES = new Set([502, 503, 504]);

/** The upstream answered 502/503/504: relayed untouched (already on its way), but counted as a failure by the breaker. */
class UpstreamUnavailableError extends Error {}
class UpstreamTimeoutError extends Error {}
/** The client went away; the aborted upstream call says nothing about the upstream's health. */
class ClientGoneError extends Error {}
/** The HTTP client refused to send what the client sent: the client's fault, not the upstream's. */
class UnsendableRequestError extends Error {}

export interface ForwardContext {
  traceId: string;
  traceparent: string;
  requestId: string;
  /** The whole request body, read by the gateway; absent for a request without one. */
  body?: Buffer;
  /** Keeps a copy of the answer as it is relayed (the response cache): asked at the status line, given the whole body at the end. */
  keep?: AnswerKeeper;
}

export interface AnswerKeeper {
  /** Whether this answer is worth collecting. */
  wants(status: number, headers: IncomingHttpHeaders): boolean;
  kept(status: number, headers: IncomingHttpHeaders, body: Buffer): void;
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  context: ForwardContext;
}

export interface UpstreamProxyOptions {
  name: string;
  baseUrl: string;
  timeoutMs: number;
  breaker: { volumeThreshold: number; errorThresholdPercentage: number; resetTimeoutMs: number };
}

/** Connections per upstream; high, because every client request in flight holds one. */
const MAX_CONNECTIONS = 256;

/** The header names a `Connection` header lists as hop-by-hop (RFC 9110 §7.6.1), minus the ones it may never remove. */
function connectionTokens(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined || connection === "keep-alive" || connection === "close") return undefined;
  const tokens = new Set<string>();
  for (const token of String(connection).split(",")) {
    const name = token.trim().toLowerCase();
    if (!PROTECTED_FROM_CONNECTION_TOKENS.has(name)) tokens.add(name);
  }
  return tokens;
}

/**
 * The headers sent upstream: the client's end-to-end headers (its Authorization verbatim), then the
 * gateway's own, set last so nothing the client sent can replace or remove them. A request with a
 * body always has an explicit content-length: the upstream connection is shared by many clients'
 * requests, and it is this framing that keeps one request from being read as two.
 */
function upstreamHeaders(incoming: IncomingHttpHeaders, context: ForwardContext): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const dropped = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (!NOT_COPIED_REQUEST_HEADERS.has(name) && !dropped?.has(name)) headers[name] = incoming[name]!;
  }
  headers["x-request-id"] = context.requestId;
  headers.traceparent = context.traceparent;
  if (context.body) headers["content-length"] = String(context.body.length);
  return headers;
}

/**
 * Sends requests to one upstream over a keep-alive pool, behind a circuit breaker. Only what says
 * the upstream is unwell counts as a failure: connection errors, timeouts, and 502/503/504 answers.
 * A 500 is relayed but not counted, so a client that can make a service fail cannot open the
 * breaker for everyone. Once open, calls fail fast with 503.
 *
 * The pool is undici's, driven through its dispatch handler: the answer is written to the client
 * as it arrives, with no intermediate stream or message object; per proxied request that is about
 * a sixth less CPU than node:http's client (docs/benchmarks.md).
 */
export class UpstreamProxy {
  readonly name: string;
  readonly baseUrl: string;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly resetTimeoutMs: number;
  private readonly pool: Pool;
  private readonly breaker: CircuitBreaker<[Exchange], void>;
  private openedAt = 0;

  constructor(
    options: UpstreamProxyOptions,
    private readonly logger: Logger,
  ) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== "http:") throw new Error(`upstream ${options.name}: only http:// URLs are supported, got ${options.baseUrl}`);
    this.name = options.name;
    this.baseUrl = url.origin;
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.timeoutMs = options.timeoutMs;
    this.resetTimeoutMs = options.breaker.resetTimeoutMs;
    // Idle connections are closed well before the upstream's own keep-alive timeout (65 s in
    // http-kit), so a request is never written onto a connection the upstream is closing. One
    // request at a time per connection (no pipelining): a slow answer must not hold up others.
    this.pool = new Pool(this.baseUrl, { connections: MAX_CONNECTIONS, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000 });
    this.breaker = new CircuitBreaker((exchange: Exchange) => this.exchange(exchange), {
      name: options.name,
      // The request's own inactivity timeout aborts the call; a breaker timer would leave it running.
      timeout: false,
      resetTimeout: options.breaker.resetTimeoutMs,
      errorThresholdPercentage: options.breaker.errorThresholdPercentage,
      volumeThreshold: options.breaker.volumeThreshold,
      errorFilter: (error) => error instanceof ClientGoneError || error instanceof UnsendableRequestError,
      // Only counts are needed; latency percentiles would keep every latency of the window.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.breaker.on("open", () => {
      this.openedAt = Date.now();
      logger.warn({ upstream: this.name }, "circuit opened: failing fast");
    });
    this.breaker.on("halfOpen", () => logger.info({ upstream: this.name }, "circuit half open: trying one request"));
    this.breaker.on("close", () => logger.info({ upstream: this.name }, "circuit closed"));
  }

  get circuitOpen(): boolean {
    return this.breaker.opened;
  }

  /** Sends `req` (with the body the gateway read) to the upstream and streams the answer back to `res`; always ends `res` one way or another. */
  forward(req: IncomingMessage, res: ServerResponse, context: ForwardContext): void {
    if (res.destroyed) return;
    const exchange: Exchange = { req, res, context };
    this.breaker.fire(exchange).catch((error: unknown) => this.answerFailure(error, exchange));
  }

  /** GET /healthz of the upstream, for the gateway's readiness; outside the breaker on purpose. */
  async checkHealth(timeoutMs = 1500): Promise<void> {
    const response = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${this.name} /healthz answered ${response.status}`);
  }

  close(): void {
    this.breaker.shutdown();
    void this.pool.destroy();
  }

  /**
   * The breaker's action: settles when the upstream's status line arrives (or the call fails
   * before it). The answer itself is relayed by the handler as it streams in.
   */
  private exchange(exchange: Exchange): Promise<void> {
    const { req, res, context } = exchange;
    return new Promise((resolve, reject) => {
      let controller: Dispatcher.DispatchController | undefined;
      let answering = false;
      let kept: { status: number; headers: IncomingHttpHeaders; chunks: Buffer[] } | undefined;
      // Aborting the upstream call closes its connection too, so a half-read answer is never reused.
      res.once("close", () => {
        if (!res.writableFinished) controller?.abort(new ClientGoneError("client closed the connection"));
      });
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (c) => {
          controller = c;
          if (res.destroyed) c.abort(new ClientGoneError("client closed the connection"));
        },
        onResponseStart: (c, status, headers) => {
          if (status < 200) return;
          if (res.destroyed) return void c.abort(new ClientGoneError("client closed the connection"));
          answering = true;
          relayHead(status, headers, res);
          if (context.keep?.wants(status, headers)) kept = { status, headers, chunks: [] };
          // Relayed untouched either way; the breaker only needs to know whether it counts.
          if (BREAKER_FAILURE_STATUSES.has(status)) reject(new UpstreamUnavailableError(`${this.name} answered ${status}`));
          else resolve();
        },
        onResponseData: (c, chunk) => {
          kept?.chunks.push(chunk);
          if (!res.write(chunk)) {
            c.pause();
            res.once("drain", () => c.resume());
          }
        },
        onResponseEnd: () => {
          res.end();
          if (kept) context.keep!.kept(kept.status, kept.headers, Buffer.concat(kept.chunks));
        },
        onResponseError: (_c, error) => {
          // After the status line an upstream that breaks off must not leave the client waiting for the rest.
          if (answering) return void res.destroy();
          reject(this.classify(error));
        },
      };
      try {
        this.pool.dispatch(
          {
            path: req.url!,
            method: req.method as Dispatcher.HttpMethod,
            headers: upstreamHeaders(req.headers, context),
            // The body was read whole by the gateway: upstream, a request is always one complete, framed message.
            body: context.body ?? null,
            headersTimeout: this.timeoutMs,
            bodyTimeout: this.timeoutMs,
          },
          handler,
        );
      } catch (error) {
        reject(this.classify(error));
      }
    });
  }

  private classify(error: unknown): Error {
    if (error instanceof ClientGoneError) return error;
    if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
      return new UpstreamTimeoutError(`no data from ${this.name} for ${this.timeoutMs} ms`);
    }
    if (error instanceof undiciErrors.InvalidArgumentError) return new UnsendableRequestError(error.message);
    return error instanceof Error ? error : new Error(String(error));
  }

  private answerFailure(error: unknown, exchange: Exchange): void {
    const { res, context } = exchange;
    if (error instanceof ClientGoneError || error instanceof UpstreamUnavailableError) return;
    if (error instanceof UnsendableRequestError) {
      return writeProblem(res, context.traceId, 400, "MALFORMED_REQUEST", "the request cannot be forwarded as sent");
    }
    if (CircuitBreaker.isOurError(error as Error)) {
      const retryAfter = Math.max(1, Math.ceil((this.openedAt + this.resetTimeoutMs - Date.now()) / 1000));
      return writeProblem(res, context.traceId, 503, "SERVICE_UNAVAILABLE", `the ${this.name} service is failing; requests are paused`, {
        headers: { "retry-after": String(retryAfter) },
      });
    }
    if (error instanceof UpstreamTimeoutError) {
      this.logger.warn({ upstream: this.name, path: exchange.req.url }, "upstream timed out");
      return writeProblem(res, context.traceId, 504, "GATEWAY_TIMEOUT", `the ${this.name} service did not answer in time`);
    }
    this.logger.warn({ upstream: this.name, err: error }, "upstream unreachable");
    writeProblem(res, context.traceId, 502, "BAD_GATEWAY", `the ${this.name} service could not be reached`);
  }
}

/**
 * The upstream's end-to-end headers onto `res`. What the gateway already set (request id, security
 * and CORS headers, `no-store` for an authenticated request) wins; `Vary` is merged.
 */
function copyResponseHeaders(upstream: IncomingHttpHeaders, res: ServerResponse): void {
  const dropped = connectionTokens(upstream.connection);
  for (const name in upstream) {
    if (HOP_BY_HOP_RESPONSE_HEADERS.has(name) || dropped?.has(name)) continue;
    const value = upstream[name]!;
    if (!res.hasHeader(name)) res.setHeader(name, value);
    else if (name === "vary") res.setHeader("vary", `${String(res.getHeader("vary"))}, ${String(value)}`);
  }
}

/** An answer kept by the response cache, as the upstream gave it, with its age (RFC 9111 §5.1). */
export function relayKept(res: ServerResponse, headers: IncomingHttpHeaders, body: Buffer, ageSeconds: number): void {
  copyResponseHeaders(headers, res);
  res.setHeader("age", String(ageSeconds));
  res.writeHead(200);
  res.end(body);
}

/** The upstream's status and end-to-end headers onto the client's answer; the body follows as it arrives. */
function relayHead(status: number, headers: IncomingHttpHeaders, res: ServerResponse): void {
  copyResponseHeaders(headers, res);
  // An error is about one request; no cache may keep it, whatever the upstream said.
  if (status >= 400) res.setHeader("cache-control", "no-store");
  res.writeHead(status);
}
