import type { IncomingHttpHeaders } from "node:http";

/**
 * A shared cache for the public reads the services mark as such, held for well under a second:
 * on a sale day everyone reads the same few products, and each of those reads would otherwise be
 * a hop to the catalog (which answers from Redis anyway). Only anonymous `GET`s are served from it
 * (a request with a token, a conditional one or one asking `no-cache` goes upstream), only a 200
 * whose `Cache-Control` says `public` with an `s-maxage`/`max-age` is kept, for the shorter of
 * that and the gateway's own limit, and a successful write through this gateway to a service drops
 * what that service answered (an order placed says nothing about the catalog's answers). A
 * product read may lag the catalog by at most 1 s (the contract); this cache's share of that is
 * its TTL. Bounded in entries and in body size, so many distinct URLs cannot grow it without limit.
 */
export interface CachedResponse {
  /** The service that answered: its writes drop the entry. */
  upstream: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  storedAt: number;
  expiresAt: number;
}

export interface ResponseCacheOptions {
  /** The longest an entry is served (0 switches the cache off). */
  ttlMs: number;
  maxEntries: number;
  maxBodyBytes: number;
  now?: () => number;
}

/** Seconds a shared cache may keep a response, from its Cache-Control; undefined when it may not. */
export function sharedMaxAgeSeconds(cacheControl: string | string[] | undefined): number | undefined {
  if (typeof cacheControl !== "string") return undefined;
  const directives = new Map<string, string | undefined>();
  for (const part of cacheControl.toLowerCase().split(",")) {
    const [name, value] = part.trim().split("=", 2) as [string, string | undefined];
    if (name) directives.set(name, value?.replace(/^"|"$/g, ""));
  }
  if (!directives.has("public") || directives.has("private") || directives.has("no-store") || directives.has("no-cache")) return undefined;
  const seconds = Number(directives.get("s-maxage") ?? directives.get("max-age"));
  return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private readonly now: () => number;

  constructor(private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0;
  }

  /** A fresh entry for `key`, if there is one (a stale one is dropped). */
  lookup(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  /** How old a kept answer is, in whole seconds (its `Age` header). */
  ageSecondsOf(entry: CachedResponse): number {
    return Math.floor((this.now() - entry.storedAt) / 1000);
  }

  /** Keeps a 200 answer if its headers allow a shared cache to; says whether it did. */
  store(key: string, upstream: string, status: number, headers: IncomingHttpHeaders, body: Buffer): boolean {
    if (!this.enabled || status !== 200 || body.length > this.options.maxBodyBytes) return false;
    if (headers["set-cookie"] !== undefined || headers.vary !== undefined) return false;
    const maxAgeSeconds = sharedMaxAgeSeconds(headers["cache-control"]);
    if (maxAgeSeconds === undefined) return false;
    const storedAt = this.now();
    // The oldest entry makes room (a Map iterates in insertion order); re-storing a key renews its place.
    this.entries.delete(key);
    if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { upstream, headers, body, storedAt, expiresAt: storedAt + Math.min(this.options.ttlMs, maxAgeSeconds * 1000) });
    return true;
  }

  /** Whether an answer with this status line and these headers could be kept at all (else the proxy does not collect its body). */
  mayStore(status: number, headers: IncomingHttpHeaders): boolean {
    if (!this.enabled || status !== 200 || sharedMaxAgeSeconds(headers["cache-control"]) === undefined) return false;
    const length = Number(headers["content-length"]);
    return !Number.isFinite(length) || length <= this.options.maxBodyBytes;
  }

  /** Drops what `upstream` answered (after a write to it). */
  forget(upstream: string): void {
    for (const [key, entry] of this.entries) if (entry.upstream === upstream) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
