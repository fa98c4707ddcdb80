import type { ErrorRequestHandler, RequestHandler } from "express";
import { DomainError, ValidationError } from "@shop/errors";
import type { Logger } from "@shop/logging";
import { INFRASTRUCTURE_RETRY_AFTER_SECONDS, infrastructureFault } from "@shop/errors";
import { ValidatorCrashedError } from "./input-validation.ts";
import { problem, sendProblem, type Problem } from "./problem.ts";
import { responseHeadersOf } from "./request-errors.ts";

/** Statuses of the codes every service shares; a service adds its own business codes. */
export const commonErrorStatuses: Record<string, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

export function notFoundHandler(): RequestHandler {
  return (req, res) => sendProblem(res, problem(404, "NOT_FOUND", `no route for ${req.method} ${req.path}`));
}

/** An error raised by Express or its body parser for something the client sent (http-errors style). */
interface HttpClientError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
}

/** Codes of client-error statuses that have no more specific meaning below. */
const CODE_OF_CLIENT_STATUS: Record<number, string> = {
  400: "MALFORMED_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  408: "REQUEST_TIMEOUT",
  413: "PAYLOAD_TOO_LARGE",
  414: "URI_TOO_LONG",
  415: "UNSUPPORTED_MEDIA_TYPE",
  431: "HEADERS_TOO_LARGE",
};

/**
 * The problem for an error that Express or body-parser raised about the request itself, or null
 * when `error` is not one. They carry a 4xx `status` and `expose` (http-errors), except Express's
 * URIError for a path it cannot percent-decode, which has only the status. Their messages are not
 * echoed: each known kind gets a fixed detail.
 */
export function clientErrorProblem(error: unknown): Problem | null {
  if (error === null || typeof error !== "object") return null;
  const { status: rawStatus, statusCode, expose, type } = error as HttpClientError;
  const status = rawStatus ?? statusCode;
  if (typeof status !== "number" || status < 400 || status > 499) return null;
  if (error instanceof URIError) {
    return problem(400, "VALIDATION_FAILED", "the path is not valid percent-encoded UTF-8", {
      errors: [{ field: "path", message: "is not valid percent-encoded UTF-8" }],
    });
  }
  if (expose !== true) return null;
  switch (type) {
    case "entity.parse.failed":
      return problem(400, "VALIDATION_FAILED", "the request body is not valid JSON", { errors: [{ field: "body", message: "invalid JSON" }] });
    case "entity.too.large":
      return problem(413, "PAYLOAD_TOO_LARGE", "the request body is too large (at most 64 KiB after decompression)");
    case "encoding.unsupported":
      return problem(415, "UNSUPPORTED_MEDIA_TYPE", "unsupported Content-Encoding; send identity, gzip, deflate or br");
    case "charset.unsupported":
      return problem(415, "UNSUPPORTED_MEDIA_TYPE", "unsupported charset; JSON bodies are UTF-8");
    case "request.size.invalid":
      return problem(400, "MALFORMED_REQUEST", "the request body does not match its Content-Length");
    case "request.aborted":
      return problem(400, "MALFORMED_REQUEST", "the request body was cut off");
    case undefined:
      // Decompression failures have no type: the zlib error itself gets the status.
      if (status === 400) return problem(400, "MALFORMED_REQUEST", "the request body cannot be decoded as its Content-Encoding says");
  }
  return problem(status, CODE_OF_CLIENT_STATUS[status] ?? "MALFORMED_REQUEST", "the request cannot be processed as sent");
}

/**
 * The one place where errors become HTTP: known codes keep their meaning, client mistakes caught
 * by Express or the body parser are 4xx, an unavailable dependency is a 503 with Retry-After, and
 * anything else is a bare 500 (the cause goes to the log, never to the client).
 */
export function errorHandler(logger: Logger, statuses: Record<string, number>): ErrorRequestHandler {
  const table = { ...commonErrorStatuses, ...statuses };
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof ValidationError) {
      if (error instanceof ValidatorCrashedError)
        logger.error({ err: error.crash, method: req.method, path: req.path }, "a route schema threw on this input; answered 400, fix the schema");
      return sendProblem(res, problem(400, error.code, error.message, { errors: error.issues }));
    }
    if (error instanceof DomainError) {
      const status = table[error.code] ?? 409;
      res.set(responseHeadersOf(error));
      if (status === 503 && !res.hasHeader("retry-after")) res.setHeader("retry-after", String(INFRASTRUCTURE_RETRY_AFTER_SECONDS));
      return sendProblem(res, problem(status, error.code, error.message, error.details));
    }
    const clientError = clientErrorProblem(error);
    if (clientError) return sendProblem(res, clientError);
    const fault = infrastructureFault(error);
    if (fault) {
      logger.warn({ err: error, fault, method: req.method, path: req.path }, "a dependency is unavailable; answered 503");
      res.setHeader("retry-after", String(INFRASTRUCTURE_RETRY_AFTER_SECONDS));
      return sendProblem(res, problem(503, "SERVICE_UNAVAILABLE", "a dependency of this service is unavailable; retry shortly"));
    }
    logger.error({ err: error, method: req.method, path: req.path }, "unhandled error");
    sendProblem(res, problem(500, "INTERNAL_ERROR", "an unexpected error occurred; it has been logged"));
  };
}
