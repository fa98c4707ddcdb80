import { z } from "zod";
import { SAFE_TEXT_MESSAGE, SAFE_TEXT_PATTERN } from "./text-guard.ts";

/** Contract: user ids are 1–64 characters of [A-Za-z0-9_-]. */
export const userId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _ or -");

/** Contract: Idempotency-Key is 1–255 characters. */
export const idempotencyKey = z.string().min(1).max(255);

/** A positive integer in KRW or units, never a string, fraction or unsafe number. */
export const positiveInt = (max: number) => z.number().int("must be an integer").positive("must be positive").max(max, `must be at most ${max}`);

export const pageLimit = (max = 100, fallback = 20) =>
  z
    .string()
    .regex(/^\d+$/, "must be a positive integer")
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((v) => v ?? fallback);

export const cursor = z.string().min(1).max(200).optional();

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
