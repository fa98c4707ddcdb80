import { ResponseCache, sharedMaxAgeSeconds } from "../src/response-cache.ts";

// The gateway's response cache on its own: which answers it keeps, for how long, and how many.

const SHARED = { "cache-control": "public, max-age=0, s-maxage=1", "content-type": "application/json" };
const body = Buffer.from('{"id":"p-1"}');

function cacheAt(start = 1_000, options: Partial<{ ttlMs: number; maxEntries: number; maxBodyBytes: number }> = {}) {
  const clock = { now: start };
  const cache = new ResponseCache({ ttlMs: 250, maxEntries: 3, maxBodyBytes: 64, ...options, now: () => clock.now });
  return { cache, clock };
}

test.each<[string | undefined, number | undefined]>([
  ["public, max-age=0, s-maxage=1", 1],
  ["public, max-age=5", 5],
  ['PUBLIC, S-MAXAGE="2"', 2],
  ["max-age=60", undefined],
  ["public, private, max-age=60", undefined],
  ["public, no-store, max-age=60", undefined],
  ["public, no-cache, max-age=60", undefined],
  ["public, max-age=0", undefined],
  ["public, max-age=abc", undefined],
  [undefined, undefined],
])("Cache-Control %j lets a shared cache keep the answer %j seconds", (header, seconds) => {
  expect(sharedMaxAgeSeconds(header)).toBe(seconds);
});

test("given a public 200, when it is stored, then it is served until the shorter of the gateway's TTL and its s-maxage, and not after", () => {
  const { cache, clock } = cacheAt();
  expect(cache.store("/a", "catalog", 200, SHARED, body)).toBe(true);
  clock.now += 249;
  expect(cache.lookup("/a")?.body).toEqual(body);
  clock.now += 1;
  expect(cache.lookup("/a")).toBeUndefined();

  const long = cacheAt(0, { ttlMs: 1_000 });
  long.cache.store("/b", "catalog", 200, { "cache-control": "public, s-maxage=1" }, body);
  long.clock.now = 999;
  expect(long.cache.lookup("/b")).toBeDefined();
});

test.each<[string, number, Record<string, string>, Buffer]>([
  ["not a 200", 404, SHARED, body],
  ["not public", 200, { "cache-control": "max-age=60" }, body],
  ["setting a cookie", 200, { ...SHARED, "set-cookie": "a=b" }, body],
  ["varying by a request header", 200, { ...SHARED, vary: "origin" }, body],
  ["larger than the body limit", 200, SHARED, Buffer.alloc(65)],
])("an answer %s is not kept", (_, status, headers, answer) => {
  const { cache } = cacheAt();
  expect(cache.store("/a", "catalog", status, headers, answer)).toBe(false);
  expect(cache.lookup("/a")).toBeUndefined();
});

test("with a TTL of 0 the cache keeps nothing", () => {
  const { cache } = cacheAt(0, { ttlMs: 0 });
  expect(cache.enabled).toBe(false);
  expect(cache.mayStore(200, SHARED)).toBe(false);
  expect(cache.store("/a", "catalog", 200, SHARED, body)).toBe(false);
});

test("the proxy collects a body only when it could be kept (a declared length over the limit is not)", () => {
  const { cache } = cacheAt();
  expect(cache.mayStore(200, SHARED)).toBe(true);
  expect(cache.mayStore(200, { ...SHARED, "content-length": "65" })).toBe(false);
  expect(cache.mayStore(200, { "cache-control": "no-store" })).toBe(false);
  expect(cache.mayStore(500, SHARED)).toBe(false);
});

test("many distinct URLs cannot grow it past its bound: the oldest entry goes first", () => {
  const { cache } = cacheAt();
  for (const key of ["/1", "/2", "/3", "/4"]) cache.store(key, "catalog", 200, SHARED, body);
  expect(cache.size).toBe(3);
  expect(cache.lookup("/1")).toBeUndefined();
  expect(cache.lookup("/4")).toBeDefined();
});

test("a write to a service drops what that service answered, and nothing else", () => {
  const { cache } = cacheAt();
  cache.store("/a", "catalog", 200, SHARED, body);
  cache.store("/b", "coupon", 200, SHARED, body);
  cache.forget("catalog");
  expect(cache.lookup("/a")).toBeUndefined();
  expect(cache.lookup("/b")).toBeDefined();
});
