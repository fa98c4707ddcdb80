import type { IncomingMessage, ServerResponse } from "node:http";
import { writeProblem } from "./problem-response.ts";

export interface CorsOptions {
  /** Exact origins (`https://shop.example.com`); empty means no CORS headers at all. */
  allowedOrigins: ReadonlySet<string>;
  maxAgeSeconds: number;
}

export interface CorsPolicy {
  /** Adds `Vary: Origin` and, for an allowed origin, the headers that let its page read the answer. */
  decorate(req: IncomingMessage, res: ServerResponse): void;
  /** Answers any `OPTIONS` under `/api/`: a preflight per the allow-list, a plain one with `Allow`. Never forwarded. */
  answerOptions(req: IncomingMessage, res: ServerResponse, traceId: string): void;
}

export const API_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOWED_REQUEST_HEADERS = "authorization, content-type, idempotency-key, prefer, x-request-id, traceparent";
const EXPOSED_RESPONSE_HEADERS = "x-request-id, retry-after, location, idempotent-replayed";

const isPreflight = (req: IncomingMessage) => req.headers.origin !== undefined && req.headers["access-control-request-method"] !== undefined;

/**
 * CORS for browser clients on an exact allow-list. Tokens travel in `Authorization`, not cookies, so
 * credentials mode is never allowed. A preflight needs no token (browsers never send one with it);
 * a preflight from an origin not on the list is refused with 403 problem+json and no CORS headers,
 * so the browser blocks the real request.
 */
export function createCorsPolicy(options: CorsOptions): CorsPolicy {
  const { allowedOrigins } = options;
  const enabled = allowedOrigins.size > 0;
  const preflightHeaders = {
    "access-control-allow-methods": API_METHODS,
    "access-control-allow-headers": ALLOWED_REQUEST_HEADERS,
    "access-control-max-age": String(options.maxAgeSeconds),
    "content-length": "0",
  };
  const isAllowed = (origin: string | undefined): origin is string => origin !== undefined && allowedOrigins.has(origin);

  return {
    decorate(req, res) {
      if (!enabled) return;
      // The answer differs by origin, so a shared cache must key on it even for origins that get nothing.
      res.setHeader("vary", "Origin");
      const origin = req.headers.origin;
      if (!isAllowed(origin)) return;
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", EXPOSED_RESPONSE_HEADERS);
    },

    answerOptions(req, res, traceId) {
      if (!isPreflight(req)) {
        res.writeHead(204, { allow: `${API_METHODS}, OPTIONS`, "content-length": "0" });
        return void res.end();
      }
      if (!isAllowed(req.headers.origin)) {
        return writeProblem(res, traceId, 403, "FORBIDDEN", "cross-origin requests from this origin are not allowed");
      }
      res.writeHead(204, preflightHeaders);
      res.end();
    },
  };
}
