import { STATUS_CODES, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { problem } from "@shop/http-kit";

export interface ProblemOptions {
  headers?: OutgoingHttpHeaders;
  extensions?: Record<string, unknown>;
  /**
   * Close the client connection after the answer: for requests whose framing or body the gateway
   * refused, where whatever else the client sends on that connection cannot be trusted (or is a
   * body the gateway does not want to drain).
   */
  closeConnection?: boolean;
}

/**
 * http-kit's sendProblem for a bare node response: the proxy path runs without Express, so it
 * writes the same RFC 9457 body (with the trace id) itself. Never cacheable: an error is about
 * one request only.
 */
export function writeProblem(res: ServerResponse, traceId: string, status: number, code: string, detail: string, options: ProblemOptions = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const content = problem(status, code, detail, options.extensions);
  // http-kit names the statuses the services use; the edge-only ones (405, 414, 431…) take node's name.
  if (content.title === "Error") content.title = STATUS_CODES[status] ?? "Error";
  const body = JSON.stringify({ ...content, traceId });
  res.writeHead(status, {
    ...options.headers,
    "content-type": "application/problem+json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...(options.closeConnection ? { connection: "close" } : {}),
  });
  res.end(body);
}

/** An answer the gateway gives instead of forwarding, decided before it is written. */
export interface Refusal extends ProblemOptions {
  status: number;
  code: string;
  detail: string;
}

export function writeRefusal(res: ServerResponse, traceId: string, refusal: Refusal): void {
  writeProblem(res, traceId, refusal.status, refusal.code, refusal.detail, refusal);
}
