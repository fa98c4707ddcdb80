import { createServer, get, type IncomingHttpHeaders, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { createTestSchema, signToken, silentLogger, testJwt, type TestSchema } from "@shop/testing";
import { loadWalletConfig } from "../../services/wallet/src/config.ts";
import { start as startWallet, type RunningWallet } from "../../services/wallet/src/main.ts";
import { loadGatewayConfig } from "../src/config.ts";
import { start as startGateway, type RunningGateway } from "../src/main.ts";

const walletMigrations = fileURLToPath(new URL("../../services/wallet/prisma/migrations", import.meta.url));

/** What the stub upstream saw of the last request the gateway forwarded to it. */
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer far larger than the sockets' buffers, so relaying it needs back-pressure. */
const BIG_BODY = Buffer.from(Array.from({ length: 4 * 1024 * 1024 }, (_, i) => i % 251));

/**
 * A bare upstream standing in for the wallet where the real one cannot show what the gateway
 * does: it records what arrives, answers 500 or never answers on request.
 */
function startStubUpstream(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url!.includes("/hang")) return;
      if (req.url!.includes("/boom")) {
        res.writeHead(500, { "content-type": "application/problem+json", "x-upstream": "stub" });
        return void res.end(JSON.stringify({ code: "STUB_FAILURE", status: 500 }));
      }
      if (req.url!.includes("/unavailable")) {
        res.writeHead(503, { "content-type": "application/problem+json", "retry-after": "7", "x-upstream": "stub" });
        return void res.end(JSON.stringify({ code: "STUB_DOWN", status: 503 }));
      }
      if (req.url!.includes("/big")) {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(BIG_BODY.length) });
        return void res.end(BIG_BODY);
      }
      if (req.url!.includes("/partial")) {
        // Promises 1,000 bytes, sends 10, then the connection dies.
        res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
        res.write('{"items":[');
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "stub" });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        received,
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const jwtEnv = { JWT_SECRET: testJwt.secret, JWT_ISSUER: testJwt.issuer, JWT_AUDIENCE: testJwt.audience };
const gatewayConfig = (env: Record<string, string>) => loadGatewayConfig({ PORT: "0", ...jwtEnv, ...env });

let db: TestSchema;
let wallet: RunningWallet;
let stub: Awaited<ReturnType<typeof startStubUpstream>>;
let gateway: RunningGateway;
let strictGateway: RunningGateway;
let stubGateway: RunningGateway;
let deadGateway: RunningGateway;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir: walletMigrations, label: "gateway" });
  wallet = await startWallet(loadWalletConfig({ DATABASE_URL: db.databaseUrl, PORT: "0", EVENTS_ENABLED: "false" }), silentLogger);
  stub = await startStubUpstream();
  gateway = await startGateway(gatewayConfig({ WALLET_URL: wallet.url }), silentLogger);
  strictGateway = await startGateway(gatewayConfig({ WALLET_URL: wallet.url, RATE_LIMIT_BURST: "2", RATE_LIMIT_WRITES_PER_SECOND: "0.5" }), silentLogger);
  stubGateway = await startGateway(gatewayConfig({ WALLET_URL: stub.url, UPSTREAM_TIMEOUT_MS: "300", BREAKER_VOLUME_THRESHOLD: "1000" }), silentLogger);
  deadGateway = await startGateway(
    gatewayConfig({ WALLET_URL: `http://127.0.0.1:${await closedPort()}`, BREAKER_VOLUME_THRESHOLD: "3", BREAKER_RESET_MS: "60000" }),
    silentLogger,
  );
});
afterAll(async () => {
  for (const running of [gateway, strictGateway, stubGateway, deadGateway, wallet]) await running?.stop();
  await stub?.close();
  await db?.drop();
});

let userSeq = 0;
const newUser = () => `gw${Date.now().toString(36)}-${++userSeq}`;

async function call(target: RunningGateway, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const isJson = /json/.test(response.headers.get("content-type") ?? "");
  return { status: response.status, headers: response.headers, text, body: isJson && text ? JSON.parse(text) : undefined };
}

type Answer = Awaited<ReturnType<typeof call>>;

function expectProblem(response: Answer, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  expect(response.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const claims = (sub: string) => ({
  sub,
  roles: ["admin"],
  iss: testJwt.issuer,
  aud: testJwt.audience,
  iat: Math.floor(Date.now() / 1000),
  exp: Math.floor(Date.now() / 1000) + 600,
});

describe("through to the real wallet", () => {
  test("a user charges and reads their own balance", async () => {
    const userId = newUser();
    const token = await signToken({ sub: userId });
    const charged = await call(gateway, "POST", `/api/v1/users/${userId}/balance/charges`, {
      token,
      body: { amount: 1500 },
      headers: { "idempotency-key": "first" },
    });
    expect(charged.status).toBe(201);
    expect(charged.body).toMatchObject({ userId, amount: 1500, balance: 1500 });
    const replayed = await call(gateway, "POST", `/api/v1/users/${userId}/balance/charges`, {
      token,
      body: { amount: 1500 },
      headers: { "idempotency-key": "first" },
    });
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    const balance = await call(gateway, "GET", `/api/v1/users/${userId}/balance`, { token });
    expect(balance.status).toBe(200);
    expect(balance.body).toEqual({ userId, balance: 1500 });
    const history = await call(gateway, "GET", `/api/v1/users/${userId}/balance/history?limit=1`, { token });
    expect(history.body.items).toHaveLength(1);
  });

  test("the wallet's own errors come back unchanged", async () => {
    const userId = newUser();
    const response = await call(gateway, "POST", `/api/v1/users/${userId}/balance/charges`, { token: await signToken({ sub: userId }), body: { amount: -1 } });
    expectProblem(response, 400, "VALIDATION_FAILED");
    expect(response.body.errors[0].field).toBe("body.amount");
  });

  test("an admin may act on another user", async () => {
    const userId = newUser();
    const admin = await signToken({ sub: "ops-admin", roles: ["admin"] });
    const charged = await call(gateway, "POST", `/api/v1/users/${userId}/balance/charges`, { token: admin, body: { amount: 700 } });
    expect(charged.status).toBe(201);
    expect(charged.body).toMatchObject({ userId, balance: 700 });
  });

  test("x-request-id and the W3C trace context come back", async () => {
    const userId = newUser();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const response = await call(gateway, "GET", `/api/v1/users/${userId}/balance`, {
      token: await signToken({ sub: userId }),
      headers: { "x-request-id": "req-gateway-1", traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("req-gateway-1");
    expect(response.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(response.headers.get("traceparent")).not.toContain("00f067aa0ba902b7");
  });
});

describe("authentication", () => {
  const path = () => `/api/v1/users/user-1/balance`;

  test.each<[string, () => Promise<Record<string, string>>]>([
    ["no Authorization header", async () => ({})],
    ["a Basic scheme", async () => ({ authorization: "Basic dXNlcjpwdw==" })],
    ["a token that is not a JWT", async () => ({ authorization: "Bearer not-a-jwt" })],
    ["alg: none", async () => ({ authorization: `Bearer ${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims("user-1"))}.` })],
    [
      "an HS512 token",
      async () => ({
        authorization: `Bearer ${await new SignJWT({ roles: [] })
          .setProtectedHeader({ alg: "HS512" })
          .setSubject("user-1")
          .setIssuer(testJwt.issuer)
          .setAudience(testJwt.audience)
          .setExpirationTime("10m")
          .sign(new TextEncoder().encode(testJwt.secret))}`,
      }),
    ],
    ["a wrong issuer", async () => ({ authorization: `Bearer ${await signToken({ sub: "user-1", issuer: "someone-else" })}` })],
    ["a wrong audience", async () => ({ authorization: `Bearer ${await signToken({ sub: "user-1", audience: "another-api" })}` })],
    ["an expired token", async () => ({ authorization: `Bearer ${await signToken({ sub: "user-1", expiresIn: Math.floor(Date.now() / 1000) - 60 })}` })],
    ["a bad signature", async () => ({ authorization: `Bearer ${await signToken({ sub: "user-1", secret: "not-the-gateway-secret" })}` })],
    [
      "a payload swapped under a valid signature",
      async () => {
        const [header, , signature] = (await signToken({ sub: "user-1" })).split(".");
        return { authorization: `Bearer ${header}.${base64url(claims("user-1"))}.${signature}` };
      },
    ],
    [
      "roles that are not an array",
      async () => ({
        authorization: `Bearer ${await new SignJWT({ roles: "admin" })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject("user-1")
          .setIssuer(testJwt.issuer)
          .setAudience(testJwt.audience)
          .setExpirationTime("10m")
          .sign(new TextEncoder().encode(testJwt.secret))}`,
      }),
    ],
  ])("%s is 401 with a Bearer challenge", async (_label, headers) => {
    const response = await call(gateway, "GET", path(), { headers: await headers() });
    expectProblem(response, 401, "UNAUTHORIZED");
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  test("public catalog and coupon reads need no token (and reach the upstream check)", async () => {
    expectProblem(await call(gateway, "GET", "/api/v1/products"), 503, "SERVICE_UNAVAILABLE");
    expectProblem(await call(gateway, "GET", "/api/v1/coupons/c-1"), 503, "SERVICE_UNAVAILABLE");
  });

  test("a method the path does not have is 405 with Allow, with or without a token (which methods a path has is public)", async () => {
    const token = await signToken({ sub: "user-1" });
    for (const [method, target, allow] of [
      ["DELETE", "/api/v1/products", "GET, HEAD, OPTIONS"],
      ["POST", "/api/v1/products", "GET, HEAD, OPTIONS"],
      ["PUT", "/api/v1/users/user-1/balance", "GET, HEAD, OPTIONS"],
      ["DELETE", "/api/v1/users/user-1/orders/", "GET, HEAD, OPTIONS, POST"],
      ["GET", "/api/v1/admin/products", "OPTIONS, POST"],
    ]) {
      for (const options of [{}, { token }]) {
        const response = await call(gateway, method!, target!, options);
        expectProblem(response, 405, "METHOD_NOT_ALLOWED");
        expect({ target, allow: response.headers.get("allow") }).toEqual({ target, allow });
      }
    }
    // A path that is not the API's stays a 404 whatever the method.
    expectProblem(await call(gateway, "DELETE", "/api/v1/nothing"), 404, "NOT_FOUND");
  });
});

describe("authorization", () => {
  test("another user's resources are 403", async () => {
    const response = await call(gateway, "GET", `/api/v1/users/${newUser()}/balance`, { token: await signToken({ sub: newUser() }) });
    expectProblem(response, 403, "FORBIDDEN");
  });

  test("admin paths without the admin role are 403", async () => {
    const response = await call(gateway, "POST", "/api/v1/admin/products", {
      token: await signToken({ sub: newUser(), roles: ["customer"] }),
      body: { name: "x", price: 1, stock: 1 },
    });
    expectProblem(response, 403, "FORBIDDEN");
  });

  test("a malformed user id in the path is 400", async () => {
    const response = await call(gateway, "GET", `/api/v1/users/${"x".repeat(65)}/balance`, { token: await signToken({ sub: "user-1" }) });
    expectProblem(response, 400, "VALIDATION_FAILED");
    expect(response.body.errors).toEqual([{ field: "path.userId", message: expect.any(String) }]);
  });

  test("unknown paths are 404, under /api and elsewhere", async () => {
    const token = await signToken({ sub: "user-1" });
    expectProblem(await call(gateway, "GET", "/api/v1/users/user-1/profile", { token }), 404, "NOT_FOUND");
    // fetch would resolve the dot segments before sending; a raw request keeps them.
    const dotted = await new Promise<number>((resolve, reject) =>
      get(
        { host: "127.0.0.1", port: gateway.port, path: "/api/v1/users/user-1/balance/../../user-2/balance", headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      ).on("error", reject),
    );
    expect(dotted).toBe(404);
    expectProblem(await call(gateway, "GET", "/nothing-here"), 404, "NOT_FOUND");
  });
});

describe("rate limiting", () => {
  test("writes beyond the burst are 429 with Retry-After; reads are not limited", async () => {
    const userId = newUser();
    const token = await signToken({ sub: userId });
    for (let i = 0; i < 2; i++)
      expect((await call(strictGateway, "POST", `/api/v1/users/${userId}/balance/charges`, { token, body: { amount: 10 } })).status).toBe(201);
    const limited = await call(strictGateway, "POST", `/api/v1/users/${userId}/balance/charges`, { token, body: { amount: 10 } });
    expectProblem(limited, 429, "RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await call(strictGateway, "GET", `/api/v1/users/${userId}/balance`, { token })).body.balance).toBe(20);
  });

  test("the limit is per user", async () => {
    const first = newUser();
    const second = newUser();
    const firstToken = await signToken({ sub: first });
    for (let i = 0; i < 3; i++) await call(strictGateway, "POST", `/api/v1/users/${first}/balance/charges`, { token: firstToken, body: { amount: 1 } });
    const other = await call(strictGateway, "POST", `/api/v1/users/${second}/balance/charges`, {
      token: await signToken({ sub: second }),
      body: { amount: 1 },
    });
    expect(other.status).toBe(201);
  });

  test("without Redis, writes go through rather than fail, and the gateway stays ready", async () => {
    const noRedis = await startGateway(
      gatewayConfig({ WALLET_URL: wallet.url, REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, RATE_LIMIT_BURST: "1" }),
      silentLogger,
    );
    try {
      const userId = newUser();
      const token = await signToken({ sub: userId });
      for (let i = 0; i < 3; i++)
        expect((await call(noRedis, "POST", `/api/v1/users/${userId}/balance/charges`, { token, body: { amount: 1 } })).status).toBe(201);
      expect((await call(noRedis, "GET", "/readyz")).status).toBe(200);
    } finally {
      await noRedis.stop();
    }
  });

  test("admin tokens are not limited", async () => {
    const userId = newUser();
    const admin = await signToken({ sub: newUser(), roles: ["admin"] });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await call(strictGateway, "POST", `/api/v1/users/${userId}/balance/charges`, { token: admin, body: { amount: 1 } })).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
  });
});

describe("upstream failures", () => {
  test("an upstream that is not enabled is 503", async () => {
    const admin = await signToken({ sub: "ops-admin", roles: ["admin"] });
    const response = await call(gateway, "POST", "/api/v1/admin/coupons", { token: admin, body: {} });
    expectProblem(response, 503, "SERVICE_UNAVAILABLE");
  });

  test("an unreachable upstream is 502 until the breaker opens, then 503 with Retry-After", async () => {
    const token = await signToken({ sub: "user-1" });
    const answers: Answer[] = [];
    for (let i = 0; i < 5; i++) answers.push(await call(deadGateway, "GET", "/api/v1/users/user-1/balance", { token }));
    for (const answer of answers.slice(0, 3)) expectProblem(answer, 502, "BAD_GATEWAY");
    for (const answer of answers.slice(3)) {
      expectProblem(answer, 503, "SERVICE_UNAVAILABLE");
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(50);
    }
    expect(answers.some((a) => a.text.includes("ECONNREFUSED"))).toBe(false);
  });

  test("an upstream that stops answering is 504", async () => {
    const response = await call(stubGateway, "GET", "/api/v1/users/user-1/balance/hang", { token: await signToken({ sub: "user-1" }) });
    expectProblem(response, 504, "GATEWAY_TIMEOUT");
  });

  test.each([
    ["/boom", 500, "x-upstream", "stub", "STUB_FAILURE"],
    ["/unavailable", 503, "retry-after", "7", "STUB_DOWN"],
  ])("an upstream %s answering %i passes through untouched, body and headers (%s)", async (path, status, header, value, code) => {
    const response = await call(stubGateway, "GET", `/api/v1/users/user-1/balance${path}`, { token: await signToken({ sub: "user-1" }) });
    expect(response.status).toBe(status);
    expect(response.headers.get(header)).toBe(value);
    expect(response.body).toEqual({ code, status });
  });

  test("a large answer (4 MiB) arrives whole and unchanged to a client that reads it slowly", async () => {
    const token = await signToken({ sub: "user-1" });
    const response = await fetch(`${stubGateway.url}/api/v1/users/user-1/balance/big`, { headers: { authorization: `Bearer ${token}` } });
    const reader = response.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      // A slow reader, so that the gateway's writes to it back up while the upstream keeps sending.
      if (chunks.length % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(Buffer.concat(chunks).equals(BIG_BODY)).toBe(true);
  });

  test("an upstream that breaks off mid-answer ends the client's answer too, instead of leaving it waiting", async () => {
    const token = await signToken({ sub: "user-1" });
    const response = await fetch(`${stubGateway.url}/api/v1/users/user-1/balance/partial`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  test("a client that leaves mid-answer does not disturb the requests that follow on the same upstream pool", async () => {
    const token = await signToken({ sub: "user-1" });
    const port = Number(new URL(stubGateway.url).port);
    await new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write(`GET /api/v1/users/user-1/balance/big HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${token}\r\n\r\n`),
      );
      socket.once("data", () => {
        socket.destroy();
        resolve();
      });
    });
    for (let i = 0; i < 5; i++) {
      const next = await call(stubGateway, "GET", "/api/v1/users/user-1/balance", { token });
      expect(next.status).toBe(200);
      expect(next.body).toEqual({ ok: true });
    }
  });

  test("readiness does not depend on the upstreams: with the wallet down the gateway stays ready and only the wallet's routes fail", async () => {
    const token = await signToken({ sub: "user-1" });
    // Enough failures to open the breaker whatever ran before.
    for (let i = 0; i < 5; i++) await call(deadGateway, "GET", "/api/v1/users/user-1/balance", { token });
    const ready = await call(deadGateway, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready", service: "gateway", upstreams: { wallet: "circuit-open" } });
    expect([502, 503]).toContain((await call(deadGateway, "GET", "/api/v1/users/user-1/balance", { token })).status);

    const healthy = await call(gateway, "GET", "/readyz");
    expect(healthy.status).toBe(200);
    expect(healthy.body).toEqual({ status: "ready", service: "gateway", upstreams: { wallet: "available" } });
  });
});

describe("what the upstream receives", () => {
  test("the token goes upstream verbatim for the service to verify; identity headers are neither sent nor passed on", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const token = await signToken({ sub: "user-7", roles: ["customer", "beta"] });
    const response = await call(stubGateway, "POST", "/api/v1/users/user-7/balance/charges?dry=1", {
      token,
      body: { amount: 5 },
      headers: { "x-user-id": "victim", "x-user-roles": "admin", "x-request-id": "req-stub-1", traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    expect(response.status).toBe(200);
    const seen = stub.received.at(-1)!;
    expect(seen).toMatchObject({ method: "POST", url: "/api/v1/users/user-7/balance/charges?dry=1", body: JSON.stringify({ amount: 5 }) });
    expect(seen.headers).toMatchObject({
      authorization: `Bearer ${token}`,
      "x-request-id": "req-stub-1",
      "content-type": "application/json",
      "content-length": "12",
    });
    expect(seen.headers["x-user-id"]).toBeUndefined();
    expect(seen.headers["x-user-roles"]).toBeUndefined();
    // The upstream's parent span is the gateway's, inside the caller's trace.
    expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(seen.headers.traceparent).toBe(response.headers.get("traceparent"));
  });

  test("a streamed (chunked) body arrives whole", async () => {
    const chunks = ['{"amount":', "42", "}"];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });
    const response = await fetch(`${stubGateway.url}/api/v1/users/user-8/balance/charges`, {
      method: "POST",
      headers: { authorization: `Bearer ${await signToken({ sub: "user-8" })}`, "content-type": "application/json" },
      body,
      duplex: "half",
    });
    expect(response.status).toBe(200);
    // Read whole at the gateway and sent on with an explicit length: the upstream never sees the client's framing.
    expect(stub.received.at(-1)).toMatchObject({ body: '{"amount":42}', headers: { "content-length": "13" } });
    expect(stub.received.at(-1)!.headers["transfer-encoding"]).toBeUndefined();
  });

  test("public reads forward no identity", async () => {
    const publicGateway = await startGateway(gatewayConfig({ CATALOG_URL: stub.url, UPSTREAMS: "catalog", RATE_LIMIT_ENABLED: "false" }), silentLogger);
    try {
      const response = await call(publicGateway, "GET", "/api/v1/products?limit=5", { headers: { "x-user-id": "victim" } });
      expect(response.status).toBe(200);
      const seen = stub.received.at(-1)!;
      expect(seen.url).toBe("/api/v1/products?limit=5");
      expect(seen.headers["x-user-id"]).toBeUndefined();
    } finally {
      await publicGateway.stop();
    }
  });
});

describe("operations", () => {
  test("health and metrics", async () => {
    expect((await call(gateway, "GET", "/healthz")).body).toEqual({ status: "ok", service: "gateway" });
    const metrics = await call(gateway, "GET", "/metrics");
    expect(metrics.text).toContain('http_request_duration_seconds_count{service="gateway",method="GET",route="/api/v1/users/:userId/balance",status="200"}');
    expect(metrics.text).toContain('gateway_upstream_circuit_open{upstream="wallet"} 0');
  });

  test("/openapi.json merges the wallet paths and secures the non-public ones", async () => {
    const response = await call(gateway, "GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.1.0");
    expect(response.body.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
      description: expect.stringContaining("npm run token"),
    });
    expect(response.body.components.schemas.Problem).toBeDefined();
    const charges = response.body.paths["/api/v1/users/{userId}/balance/charges"];
    expect(charges.post.security).toEqual([{ bearerAuth: [] }]);
    expect(response.body.paths["/api/v1/users/{userId}/balance"].get).toBeDefined();
    expect(response.body["x-missing-services"]).toEqual([]);
  });

  test("/openapi.json names the upstreams that did not answer", async () => {
    const response = await call(deadGateway, "GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body.paths).toEqual({});
    expect(response.body["x-missing-services"]).toEqual(["wallet"]);
  });

  test("/docs serves Swagger UI pointed at /openapi.json", async () => {
    const page = await call(gateway, "GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain('url: "/openapi.json"');
    const bundle = await fetch(`${gateway.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    await bundle.body?.cancel();
  });
});
