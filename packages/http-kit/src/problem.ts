import type { Response } from "express";
import { currentTrace } from "@shop/logging";

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  [extension: string]: unknown;
}

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export function problem(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return {
    type: `https://docs.shop.local/problems/${code.toLowerCase().replaceAll("_", "-")}`,
    title: titles[status] ?? "Error",
    status,
    detail,
    code,
    ...extensions,
  };
}

/** RFC 9457 body with the request's trace id, so a client report can be found in the logs. */
export function sendProblem(res: Response, body: Problem): void {
  const traceId = currentTrace()?.traceId ?? (res.locals.traceId as string | undefined);
  res
    .status(body.status)
    .type("application/problem+json")
    .json({ ...body, traceId });
}
