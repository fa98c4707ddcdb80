import { requestIdFrom } from "@shop/http-kit";
import { clientKey, createClientRateLimiter } from "../src/client-rate-limit.ts";

describe("clientKey", () => {
  test.each([
    ["127.0.0.2", "127.0.0.2"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:0000:0000:0000:0009", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ])("%s spends from %s", (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

describe("createClientRateLimiter", () => {
  test("a client gets its burst, then waits for the refill", () => {
    const limit = createClientRateLimiter({ requestsPerSecond: 0.5, burst: 2, maxClients: 10 });
    expect(limit("10.0.0.1").allowed).toBe(true);
    expect(limit("10.0.0.1").allowed).toBe(true);
    expect(limit("10.0.0.1")).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(limit("10.0.0.2").allowed).toBe(true);
  });

  test("addresses of one IPv6 /64 share a bucket", () => {
    const limit = createClientRateLimiter({ requestsPerSecond: 0.1, burst: 1, maxClients: 10 });
    expect(limit("2001:db8:1:2::1").allowed).toBe(true);
    expect(limit("2001:db8:1:2::2").allowed).toBe(false);
    expect(limit("2001:db8:1:3::1").allowed).toBe(true);
  });

  test("the map stays bounded, forgetting the least recently seen client first", () => {
    const limit = createClientRateLimiter({ requestsPerSecond: 0.001, burst: 1, maxClients: 2 });
    limit("10.0.0.1");
    limit("10.0.0.2");
    // 10.0.0.1 is seen again (refused), so 10.0.0.2 is now the least recent and goes first.
    expect(limit("10.0.0.1").allowed).toBe(false);
    limit("10.0.0.3");
    expect(limit("10.0.0.1").allowed).toBe(false);
    expect(limit("10.0.0.2").allowed).toBe(true);
  });
});

describe("requestIdFrom", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  test.each([["abc-123"], ["a.b:c_d-e"], ["x".repeat(64)]])("keeps %s", (id) => {
    expect(requestIdFrom(id, traceId)).toBe(id);
  });
  test.each<[string, string | string[] | undefined]>([
    ["absent", undefined],
    ["empty", ""],
    ["65 characters", "x".repeat(65)],
    ["with a space", "a b"],
    ["with a newline", "a\nb"],
    ["with quotes", '"a"'],
    ["sent twice", ["a", "b"]],
  ])("replaces one %s with the trace id", (_label, id) => {
    expect(requestIdFrom(id, traceId)).toBe(traceId);
  });
});
