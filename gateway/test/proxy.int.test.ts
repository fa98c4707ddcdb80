// The proxy alone, for what no client can send through the gateway's own checks: a request its HTTP
// client refuses to forward must be the client's 400, never an upstream failure that opens the breaker.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger } from "@shop/testing";
import { UpstreamProxy } from "../src/proxy.ts";

let upstream: Server;
let front: Server;
let proxy: UpstreamProxy;
let frontUrl: string;
let upstreamCalls = 0;

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  upstream = createServer((_req, res) => {
    upstreamCalls++;
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  proxy = new UpstreamProxy(
    { name: "wallet", baseUrl: await listen(upstream), timeoutMs: 1000, breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 } },
    silentLogger,
  );
  // Stands in for a header value node's parser accepts and the HTTP client does not (a line break).
  front = createServer((req: IncomingMessage, res) => {
    if (req.headers["x-poison"] !== undefined) req.headers["x-poison"] = "a\r\nx-injected: 1";
    proxy.forward(req, res, { traceId: "0".repeat(32), traceparent: `00-${"0".repeat(31)}1-${"0".repeat(15)}1-01`, requestId: "r-1" });
  });
  frontUrl = await listen(front);
});
afterAll(async () => {
  proxy.close();
  for (const server of [front, upstream]) await new Promise((resolve) => server.close(resolve));
});

test("a request the HTTP client refuses to send is a 400 MALFORMED_REQUEST, reaches no upstream, and does not open the breaker", async () => {
  for (let i = 0; i < 5; i++) {
    const refused = await fetch(`${frontUrl}/api/v1/users/u1/balance`, { headers: { "x-poison": "yes" } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: "MALFORMED_REQUEST" });
  }
  expect(upstreamCalls).toBe(0);
  expect(proxy.circuitOpen).toBe(false);
  const fine = await fetch(`${frontUrl}/api/v1/users/u1/balance`);
  expect(fine.status).toBe(200);
  expect(upstreamCalls).toBe(1);
});
