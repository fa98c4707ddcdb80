import { createHash } from "node:crypto";
import { z } from "zod";
import { SAFE_TEXT_MESSAGE, SAFE_TEXT_PATTERN } from "./text-guard.ts";

/** Contract: user ids are 1–64 characters of [A-Za-z0-9_-]. */
export const userId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -")
  .meta({ description: "The user; a token's `sub` must name this user (admins may name anyone)", examples: ["minji"] });

/** Contract: Idempotency-Key is 1–255 characters. */
export const idempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .meta({ examples: ["9b2f4c1e-charge-0001"] });

/** A positive integer in KRW or units, never a string, fraction or unsafe number. */
export const positiveInt = (max: number) => z.number().int("must be an integer").positive("must be positive").max(max, `must be at most ${max}`);

export const pageLimit = (max = 100, fallback = 20) =>
  z
    .string()
    .regex(/^\d+$/, "must be a positive integer")
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((v) => v ?? fallback)
    // A query string carries text; the document says what the text must be.
    .meta({ openapi: { type: "integer", minimum: 1, maximum: max, default: fallback, description: `Items per page (1-${max})`, examples: [fallback] } });

const CURSOR_CHECK_LENGTH = 8;
const cursorCheck = (scope: string, key: string) => createHash("sha256").update(`${scope}\n${key}`).digest("base64url").slice(0, CURSOR_CHECK_LENGTH);

/**
 * Page cursors are opaque: the position a service pages by (a product id, a sequence number),
 * base64url-encoded, with a short checksum bound to what is paged. A cursor from another list, a
 * truncated or a made-up one is then a 400 naming `query.cursor`, instead of a silently empty (or
 * wrong) page. The checksum only catches mistakes; a cursor grants nothing a client could not ask for.
 */
export function pageCursor(scope: string, keyPattern: RegExp, example: string) {
  const encode = (key: string): string => `${Buffer.from(key).toString("base64url")}.${cursorCheck(scope, key)}`;
  const decode = (cursor: string): string | undefined => {
    const match = /^([A-Za-z0-9_-]{1,160})\.([A-Za-z0-9_-]+)$/.exec(cursor);
    if (!match) return undefined;
    const key = Buffer.from(match[1]!, "base64url").toString();
    return keyPattern.test(key) && encode(key) === cursor ? key : undefined;
  };
  const schema = z
    .string()
    .transform((value, ctx) => {
      const key = decode(value);
      if (key === undefined) {
        ctx.addIssue({ code: "custom", message: "not a cursor this API returned: pass the previous page's nextCursor as it is" });
        return z.NEVER;
      }
      return key;
    })
    .optional()
    .meta({
      openapi: {
        type: "string",
        maxLength: 200,
        description: "The previous page's `nextCursor`, as it is; omit for the first page",
        examples: [encode(example)],
      },
    });
  return {
    /** Decodes to the service's position (the handler receives the key, never the cursor). */
    schema,
    /** The `nextCursor` to send for a position, or null on the last page. */
    next: (key: string | null): string | null => (key === null ? null : encode(key)),
    /** What `nextCursor` looks like, for response examples. */
    example: encode(example),
  };
}

/** `nextCursor` of a page: null on the last one. */
export const nextCursor = z.string().nullable().describe("Pass as `cursor` to get the next page; null on the last page");

/**
 * A name or other single-line text: trimmed, then `min`–`max` UTF-16 code units (never more
 * characters than that, so it fits any column of `max` characters), without control characters
 * or unpaired surrogates. routerFor refuses those in every input anyway; here the rule is also in
 * the OpenAPI document, as the field's pattern.
 */
export const text = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min, min === 1 ? "must not be blank" : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .regex(SAFE_TEXT_PATTERN, SAFE_TEXT_MESSAGE)
    .meta({ description: `${min}-${max} characters after trimming; no control characters (U+0000-U+001F, U+007F-U+009F) or unpaired UTF-16 surrogates` });

/** Instants the database and every client can represent; anything outside is a typo, not a plan. */
const EARLIEST_INSTANT = Date.UTC(1970, 0, 1);
const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * An ISO 8601 date-time with a time zone (`2026-11-23T10:00:00Z`, `…+09:00`), as a Date. Real
 * calendar dates only (no February 30), between 1970 and 9999 in UTC.
 */
export const instant = () =>
  z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time with a time zone, e.g. 2026-11-23T10:00:00Z" }).transform((value, ctx) => {
    const date = new Date(value);
    const time = date.getTime();
    if (Number.isNaN(time) || time < EARLIEST_INSTANT || time > LATEST_INSTANT) {
      ctx.addIssue({ code: "custom", message: "must be a date-time between 1970-01-01 and 9999-12-31 (UTC)" });
      return z.NEVER;
    }
    return date;
  });
