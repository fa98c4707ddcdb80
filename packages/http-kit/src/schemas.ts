import { z } from "zod";

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
