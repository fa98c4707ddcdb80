import { isIPv6 } from "node:net";
import type { RateLimitDecision } from "./rate-limit.ts";

export interface ClientRateLimiterOptions {
  requestsPerSecond: number;
  burst: number;
  /** Buckets kept at most; the least recently seen client is forgotten first. */
  maxClients: number;
}

/** Decides for one client address; synchronous, because it never leaves the process. */
export type ClientRateLimiter = (clientAddress: string) => RateLimitDecision;

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

const ALLOWED: RateLimitDecision = { allowed: true, retryAfterSeconds: 0 };

/** Hextets of an IPv6 address, with `::` expanded (an embedded IPv4 tail counts as two). */
function ipv6Hextets(address: string): string[] {
  const split = (part: string) => (part ? part.split(":").flatMap((piece) => (piece.includes(".") ? ["0", "0"] : [piece])) : []);
  const [head = "", tail] = address.split("%")[0]!.split("::");
  if (tail === undefined) return split(head);
  const headParts = split(head);
  const tailParts = split(tail);
  return [...headParts, ...Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill("0"), ...tailParts];
}

/**
 * The bucket a client address spends from: an IPv4 address (also when IPv4-mapped), or the /64 of
 * an IPv6 address, since one IPv6 host commonly holds a whole /64 and could otherwise pick a fresh
 * address, and a fresh bucket, per request.
 */
export function clientKey(address: string): string {
  if (address.startsWith("::ffff:") && address.includes(".")) return address.slice(7);
  if (!isIPv6(address.split("%")[0]!)) return address;
  const prefix = ipv6Hextets(address)
    .slice(0, 4)
    .map((hextet) => Number.parseInt(hextet, 16).toString(16));
  return `${prefix.join(":")}::/64`;
}

/**
 * In-process token bucket per client address for requests without a valid token (anonymous
 * catalog and coupon reads). In-process on purpose: these are the cheapest, most frequent requests,
 * and a Redis round trip for each would cost more than the read; each gateway replica limits on
 * its own. The map is bounded: it is kept in least-recently-seen order (Map insertion order, each
 * hit re-inserts) and the oldest entry goes when it is full.
 */
export function createClientRateLimiter(options: ClientRateLimiterOptions): ClientRateLimiter {
  const { requestsPerSecond, burst, maxClients } = options;
  const buckets = new Map<string, Bucket>();

  const bucketOf = (key: string, now: number): Bucket => {
    const bucket = buckets.get(key);
    if (bucket) {
      buckets.delete(key);
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * requestsPerSecond) / 1000);
      bucket.at = now;
      return bucket;
    }
    if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
    return { tokens: burst, at: now };
  };

  return (clientAddress) => {
    const key = clientKey(clientAddress);
    const bucket = bucketOf(key, performance.now());
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / requestsPerSecond)) };
  };
}
