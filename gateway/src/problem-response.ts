import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { problem } from "@shop/http-kit";

/**
 * http-kit's sendProblem for a bare node response: the proxy path runs without Express, so it
 * writes the same RFC 9457 body (with the trace id) itself.
 */
export function writeProblem(
  res: ServerResponse,
  traceId: string,
  status: number,
  code: string,
  detail: string,
  options: { headers?: OutgoingHttpHeaders; extensions?: Record<string, unknown> } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ ...problem(status, code, detail, options.extensions), traceId });
  res.writeHead(status, {
    ...options.headers,
    "content-type": "application/problem+json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
