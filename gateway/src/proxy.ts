import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import CircuitBreaker from "opossum";
import type { Logger } from "@shop/logging";
import type { Identity } from "./auth.ts";
import { writeProblem } from "./problem-response.ts";

/** Request headers that describe the client's connection or identity, not the request: never forwarded. */
const DROPPED_REQUEST_HEADERS = new Set([
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
  // Replaced by the gateway: the client must not be able to claim an identity or a trace.
  "authorization",
  "x-user-id",
  "x-user-roles",
  "x-request-id",
  "traceparent",
]);
const DROPPED_RESPONSE_HEADERS = ["connection", "keep-alive", "transfer-encoding", "upgrade", "trailer", "proxy-connection"];

/** The upstream answered 5xx: relayed untouched, but counted as a failure by the breaker. */
class UpstreamServerError extends Error {
  constructor(readonly response: IncomingMessage) {
    super(`upstream answered ${response.statusCode}`);
  }
}
class UpstreamTimeoutError extends Error {}
/** The client went away; the aborted upstream call says nothing about the upstream's health. */
class ClientGoneError extends Error {}

export interface ForwardContext {
  traceId: string;
  traceparent: string;
  requestId: string;
  /** Absent on public routes: nothing about the caller is forwarded. */
  identity?: Identity;
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
const MAX_SOCKETS = 256;

/** Deletes the headers a `Connection` header names as hop-by-hop (RFC 9110 §7.6.1). */
function dropConnectionTokens(headers: Record<string, unknown>, connection: string | string[] | undefined): void {
  if (typeof connection !== "string" || connection === "keep-alive" || connection === "close") return;
  for (const token of connection.split(",")) delete headers[token.trim().toLowerCase()];
}

/**
 * Streams requests to one upstream over a keep-alive pool, behind a circuit breaker: connection
 * errors, timeouts and 5xx answers count as failures; once open, calls fail fast with 503.
 */
export class UpstreamProxy {
  readonly name: string;
  readonly baseUrl: string;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly resetTimeoutMs: number;
  private readonly agent: Agent;
  private readonly breaker: CircuitBreaker<[Exchange], IncomingMessage>;
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
    // Idle sockets are closed well before the upstream's own keep-alive timeout (65 s in
    // http-kit), so a request is never written onto a socket the upstream is closing.
    this.agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, timeout: 30_000 });
    this.breaker = new CircuitBreaker((exchange: Exchange) => this.exchange(exchange), {
      name: options.name,
      // The request's own inactivity timeout aborts the call; a breaker timer would leave it running.
      timeout: false,
      resetTimeout: options.breaker.resetTimeoutMs,
      errorThresholdPercentage: options.breaker.errorThresholdPercentage,
      volumeThreshold: options.breaker.volumeThreshold,
      errorFilter: (error) => error instanceof ClientGoneError,
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

  /** Streams `req` to the upstream and the answer back to `res`; always ends `res` one way or another. */
  forward(req: IncomingMessage, res: ServerResponse, context: ForwardContext): void {
    if (res.destroyed) return;
    const exchange: Exchange = { req, res, context };
    this.breaker.fire(exchange).then(
      (response) => relay(response, res),
      (error: unknown) => this.answerFailure(error, exchange),
    );
  }

  /** GET /healthz of the upstream, for the gateway's readiness; outside the breaker on purpose. */
  async checkHealth(timeoutMs = 1500): Promise<void> {
    const response = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${this.name} /healthz answered ${response.status}`);
  }

  close(): void {
    this.breaker.shutdown();
    this.agent.destroy();
  }

  /** The breaker's action: settles when the upstream's status line arrives (or the call fails). */
  private exchange(exchange: Exchange): Promise<IncomingMessage> {
    const { req, res, context } = exchange;
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = {};
      const incoming = req.headers;
      for (const name in incoming) if (!DROPPED_REQUEST_HEADERS.has(name)) headers[name] = incoming[name];
      dropConnectionTokens(headers, incoming.connection);
      headers["x-request-id"] = context.requestId;
      headers.traceparent = context.traceparent;
      if (context.identity) {
        headers["x-user-id"] = context.identity.userId;
        headers["x-user-roles"] = context.identity.rolesHeader;
      }

      const upstreamRequest = request({ host: this.host, port: this.port, method: req.method, path: req.url, headers, agent: this.agent, timeout: this.timeoutMs });
      upstreamRequest.on("response", (response) => {
        if (response.statusCode! >= 500) reject(new UpstreamServerError(response));
        else resolve(response);
      });
      upstreamRequest.on("timeout", () => upstreamRequest.destroy(new UpstreamTimeoutError(`no data from ${this.name} for ${this.timeoutMs} ms`)));
      // Before the answer this rejects the call; after it, the relay notices the broken response.
      upstreamRequest.on("error", reject);
      res.once("close", () => {
        if (!res.writableFinished) upstreamRequest.destroy(new ClientGoneError("client closed the connection"));
      });

      // A request without a body is complete already; only bodies are streamed through.
      if (incoming["content-length"] === undefined && incoming["transfer-encoding"] === undefined) upstreamRequest.end();
      else req.pipe(upstreamRequest);
    });
  }

  private answerFailure(error: unknown, exchange: Exchange): void {
    const { res, context } = exchange;
    if (error instanceof ClientGoneError) return;
    if (error instanceof UpstreamServerError) return relay(error.response, res);
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

/** Streams an upstream answer to the client with its status and end-to-end headers. */
function relay(response: IncomingMessage, res: ServerResponse): void {
  if (res.destroyed) {
    response.destroy();
    return;
  }
  const headers = response.headers;
  const connection = headers.connection;
  for (const name of DROPPED_RESPONSE_HEADERS) delete headers[name];
  dropConnectionTokens(headers, connection);
  res.writeHead(response.statusCode!, headers);
  // An upstream that breaks off mid-body must not leave the client waiting for the rest.
  response.on("error", () => res.destroy());
  response.on("close", () => {
    if (!response.complete) res.destroy();
  });
  response.pipe(res);
}
