import { DomainError } from "@shop/errors";

/** Errors that need headers on their problem answer (`Allow`, `Retry-After`); the error handler sets them. */
export interface CarriesResponseHeaders {
  readonly responseHeaders: Record<string, string>;
}

export function responseHeadersOf(error: unknown): Record<string, string> {
  const headers = (error as Partial<CarriesResponseHeaders> | null)?.responseHeaders;
  return headers && typeof headers === "object" ? headers : {};
}

/** The request cannot be read at all (an undecodable body or encoding): there is no field to blame. */
export class MalformedRequestError extends DomainError {
  constructor(detail: string) {
    super("MALFORMED_REQUEST", detail);
  }
}

/** A route that takes a JSON body received a body of another media type. */
export class UnsupportedMediaTypeError extends DomainError {
  constructor(contentType: string | undefined) {
    super(
      "UNSUPPORTED_MEDIA_TYPE",
      `the request body must be JSON (application/json), not ${contentType ? `"${contentType}"` : "a body without Content-Type"}`,
    );
  }
}

/** The path names a resource, but not one that answers this method (RFC 9110 §15.5.6: `Allow` lists those that do). */
export class MethodNotAllowedError extends DomainError implements CarriesResponseHeaders {
  readonly responseHeaders: Record<string, string>;

  constructor(method: string, allowed: readonly string[]) {
    super("METHOD_NOT_ALLOWED", `${method} is not allowed here; allowed: ${allowed.join(", ")}`, { allow: allowed });
    this.responseHeaders = { allow: allowed.join(", ") };
  }
}
