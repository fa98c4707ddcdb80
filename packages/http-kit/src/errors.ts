import type { ErrorRequestHandler, RequestHandler } from "express";
import { DomainError, ValidationError } from "@shop/errors";
import type { Logger } from "@shop/logging";
import { problem, sendProblem } from "./problem.ts";

/** Statuses of the codes every service shares; a service adds its own business codes. */
export const commonErrorStatuses: Record<string, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
};

export function notFoundHandler(): RequestHandler {
  return (req, res) => sendProblem(res, problem(404, "NOT_FOUND", `no route for ${req.method} ${req.path}`));
}

/** The one place where errors become HTTP: known codes keep their meaning, anything else is a bare 500. */
export function errorHandler(logger: Logger, statuses: Record<string, number>): ErrorRequestHandler {
  const table = { ...commonErrorStatuses, ...statuses };
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof ValidationError) {
      return sendProblem(res, problem(400, error.code, error.message, { errors: error.issues }));
    }
    if (error instanceof DomainError) {
      const status = table[error.code] ?? 409;
      return sendProblem(res, problem(status, error.code, error.message, error.details));
    }
    const bodyError = error as { type?: string; status?: number };
    if (bodyError.type === "entity.parse.failed") {
      return sendProblem(res, problem(400, "VALIDATION_FAILED", "the request body is not valid JSON", { errors: [{ field: "body", message: "invalid JSON" }] }));
    }
    if (bodyError.type === "entity.too.large") return sendProblem(res, problem(413, "PAYLOAD_TOO_LARGE", "the request body is too large"));
    if (bodyError.type === "encoding.unsupported" || bodyError.type === "charset.unsupported") {
      return sendProblem(res, problem(415, "UNSUPPORTED_MEDIA_TYPE", "unsupported body encoding"));
    }
    logger.error({ err: error, method: req.method, path: req.path }, "unhandled error");
    sendProblem(res, problem(500, "INTERNAL_ERROR", "an unexpected error occurred; it has been logged"));
  };
}
