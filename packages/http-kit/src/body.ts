import express, { type Request, type RequestHandler } from "express";
import { MalformedRequestError, UnsupportedMediaTypeError } from "./request-errors.ts";

/** The media types a request body may have: JSON, including structured-syntax `+json` types. */
export const JSON_MEDIA_TYPES = ["application/json", "application/*+json"];

/** Largest request body, after decompression. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The JSON body parser, on the same media types as the 415 check. Its failures arrive as
 * http-errors with a 4xx status, which the error handler maps to problems.
 */
export function jsonBodyParser(): RequestHandler {
  return express.json({ limit: MAX_BODY_BYTES, type: JSON_MEDIA_TYPES });
}

/** A body is present when it is chunked or has a non-zero Content-Length (an empty body counts as none). */
function hasBody(req: Request): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = req.headers["content-length"];
  return length !== undefined && Number(length) > 0;
}

/** `application/json` or `application/<anything>+json`, with or without parameters (as the gateway checks it). */
const JSON_CONTENT_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json[ \t]*(?:;|$)/i;

/**
 * For routes that take a body: a body that is not JSON is a 415 (it was never parsed), and so is
 * an empty one declared as something else (`Content-Type: text/plain` says what the client meant to
 * send). A missing body without a type is left to the body schema: a 400 naming `body`.
 */
export function assertJsonBody(req: Request): void {
  const declared = req.headers["content-type"];
  // req.is() answers null for a request without a body, so an empty one is judged by its header.
  const notJson = hasBody(req) ? !req.is(JSON_MEDIA_TYPES) : declared !== undefined && !JSON_CONTENT_TYPE.test(declared);
  if (notJson) throw new UnsupportedMediaTypeError(declared);
}

/**
 * For routes that take no body: one is refused rather than ignored. It has no meaning there, and a
 * body where none is expected is how desynchronised or smuggled requests look (the gateway refuses
 * them the same way).
 */
export function assertNoBody(req: Request): void {
  if (hasBody(req)) throw new MalformedRequestError(`${req.method} ${req.path} takes no request body`);
}
