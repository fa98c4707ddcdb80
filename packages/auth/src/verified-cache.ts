import { AuthenticationError } from "./identity.ts";

/** Verified tokens remembered so a client's repeated token costs a map lookup, not a signature check. */
const CACHE_SIZE = 10_000;

/**
 * Wraps a verifier with a bounded cache keyed by the token itself. An entry is honoured only
 * until the token's own expiry (plus the clock tolerance), never longer.
 */
export function cachedVerifier<T extends { expiresAt: number }>(verify: (token: string) => Promise<T>, toleranceMs: number): (token: string) => Promise<T> {
  const verified = new Map<string, T>();
  return async (token) => {
    const cached = verified.get(token);
    if (cached) {
      if (Date.now() < cached.expiresAt + toleranceMs) return cached;
      verified.delete(token);
      throw new AuthenticationError("the token has expired");
    }
    const result = await verify(token);
    // Oldest entry out first: Map iteration follows insertion order.
    if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, result);
    return result;
  };
}
