import type { IncomingMessage } from "node:http";
import { timesSent } from "@shop/http-kit";
import type { Refusal } from "./problem-response.ts";

/** Longest request target (path and query) the gateway accepts; node's header limit (16 KiB) catches the rest as 431. */
export const MAX_REQUEST_TARGET_LENGTH = 8 * 1024;

/** The only methods whose requests may carry a body. On any other a body has no meaning, and is how a request gets smuggled. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** `application/json` and `application/<anything>+json`, with or without parameters: all the services parse. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json[ \t]*(?:;|$)/i;

/** The one content coding a body may have: what the services' body parser decodes. */
const BODY_ENCODINGS = new Set(["identity", "gzip", "deflate", "br"]);

const refuse = (status: number, code: string, detail: string, closeConnection = false): Refusal => ({ status, code, detail, closeConnection });

const URI_TOO_LONG = refuse(414, "URI_TOO_LONG", `the request target is longer than ${MAX_REQUEST_TARGET_LENGTH} bytes`);
const DUPLICATE_AUTHORIZATION = refuse(400, "MALFORMED_REQUEST", "a request may carry one Authorization header only", true);
const UNSUPPORTED_TRANSFER_CODING = refuse(400, "MALFORMED_REQUEST", "the only transfer coding accepted is chunked", true);

export const acceptsBody = (method: string): boolean => BODY_METHODS.has(method);

/** Whether the request carries a body by its framing (RFC 9112 §6.3): any transfer coding, or a non-zero Content-Length. */
export function hasBody(req: IncomingMessage): boolean {
  const contentLength = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (contentLength !== undefined && Number(contentLength) > 0);
}

/**
 * What is wrong with the message itself, before any routing: a target too long, a second
 * Authorization header (node would keep only the first, so what the gateway checks and what a
 * service sees could differ), a transfer coding the gateway cannot reframe, or a body on a method
 * that has none. Node's parser already refuses conflicting Content-Length/Transfer-Encoding.
 */
export function messageRefusal(req: IncomingMessage): Refusal | undefined {
  if (req.url!.length > MAX_REQUEST_TARGET_LENGTH) return URI_TOO_LONG;
  if (timesSent(req.rawHeaders, "authorization") > 1) return DUPLICATE_AUTHORIZATION;
  const transferEncoding = req.headers["transfer-encoding"];
  if (transferEncoding !== undefined && transferEncoding.toLowerCase() !== "chunked") return UNSUPPORTED_TRANSFER_CODING;
  if (!acceptsBody(req.method!) && hasBody(req)) return refuse(400, "MALFORMED_REQUEST", `a ${req.method} request must not have a body`, true);
  return undefined;
}

/**
 * What the headers already say against the body: declared too large, in an encoding the services
 * cannot decode, or not JSON (even when empty). A compressed body is forwarded as it came (the limit applies to what
 * is sent; the services limit what it inflates to).
 */
export function bodyRefusal(req: IncomingMessage, limitBytes: number): Refusal | undefined {
  if (Number(req.headers["content-length"] ?? 0) > limitBytes)
    return refuse(413, "PAYLOAD_TOO_LARGE", `the request body is larger than ${limitBytes} bytes`, true);
  const contentEncoding = req.headers["content-encoding"];
  if (contentEncoding !== undefined && !BODY_ENCODINGS.has(contentEncoding.trim().toLowerCase())) {
    return refuse(415, "UNSUPPORTED_MEDIA_TYPE", "unsupported Content-Encoding; send identity, gzip, deflate or br", true);
  }
  // An empty body declared as something else is refused too: the type says what the client meant to send.
  const contentType = req.headers["content-type"];
  if ((hasBody(req) || contentType !== undefined) && !JSON_MEDIA_TYPE.test(contentType ?? "")) {
    return refuse(415, "UNSUPPORTED_MEDIA_TYPE", "the request body must be JSON (Content-Type: application/json)", true);
  }
  return undefined;
}

export class BodyTooLargeError extends Error {}
/** The client went away before its body was complete. */
export class RequestAbortedError extends Error {}

/**
 * The whole request body, at most `limitBytes`. Beyond the limit it rejects with BodyTooLargeError
 * and lets the rest of the body drain unread (the caller answers 413 and closes the connection).
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) return void chunks.push(chunk);
      req.off("data", onData);
      reject(new BodyTooLargeError(`request body over ${limitBytes} bytes`));
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once("error", () => reject(new RequestAbortedError("client connection failed mid-body")));
    req.once("close", () => {
      if (!req.complete) reject(new RequestAbortedError("client closed the connection mid-body"));
    });
  });
}
