import type { OutgoingHttpHeaders } from "node:http";

/**
 * On every gateway answer. The API only ever answers JSON, so its content security policy allows
 * nothing at all; `/docs` replaces it with one that lets Swagger UI run (see ops.ts).
 */
export const SECURITY_HEADERS: Readonly<OutgoingHttpHeaders> = Object.freeze({
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "cross-origin-opener-policy": "same-origin",
});

/** Swagger UI: its own scripts and styles from `/docs`, the one inline script by hash, API calls to the same origin. */
export function docsContentSecurityPolicy(inlineScriptSha256: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'sha256-${inlineScriptSha256}'`,
    // Swagger UI (React) sets style attributes on its elements.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/** `setHeader` of every security header; used where the headers object is not built in one piece. */
export function setSecurityHeaders(res: { setHeader(name: string, value: string | number | readonly string[]): unknown }): void {
  for (const name in SECURITY_HEADERS) res.setHeader(name, SECURITY_HEADERS[name]!);
}
