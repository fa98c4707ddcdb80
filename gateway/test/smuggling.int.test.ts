// Request smuggling and malformed HTTP at the edge, with exact bytes on raw sockets: whatever a
// client sends, the stand-in service behind the gateway must see exactly the requests the gateway
// meant to forward, each one framed, and the client must get a problem+json answer.
import { gzipSync } from "node:zlib";
import { signToken } from "@shop/testing";
import type { RunningGateway } from "../src/main.ts";
import { expectProblem, rawExchange, settle, startRecorder, startTestGateway, type Recorder } from "./support.ts";

let recorder: Recorder;
let gateway: RunningGateway;
let smallBodyGateway: RunningGateway;
let userToken: string;
let adminToken: string;

beforeAll(async () => {
  recorder = await startRecorder();
  gateway = await startTestGateway(recorder.url, { RATE_LIMIT_ENABLED: "false" });
  smallBodyGateway = await startTestGateway(recorder.url, { RATE_LIMIT_ENABLED: "false", REQUEST_BODY_LIMIT_BYTES: "1024" });
  userToken = await signToken({ sub: "user-1" });
  adminToken = await signToken({ sub: "ops-admin", roles: ["admin"] });
});
afterAll(async () => {
  for (const running of [gateway, smallBodyGateway]) await running?.stop();
  await recorder?.close();
});
beforeEach(() => {
  recorder.seen.length = 0;
});

/** The request an attacker hides in a body: with no token, it would change a price. */
const SMUGGLED = 'PATCH /api/v1/admin/products/p-1 HTTP/1.1\r\nHost: catalog\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"price":1}';
const chunked = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
const head = (requestLine: string, headers: string[]) => `${requestLine}\r\nHost: gateway\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;

describe("a body where the method has none is refused before anything goes upstream", () => {
  test.each<[string, string, boolean]>([
    ["GET with a chunked body", head("GET /api/v1/products HTTP/1.1", ["Transfer-Encoding: chunked"]) + chunked(SMUGGLED), false],
    ["HEAD with a chunked body", head("HEAD /api/v1/products HTTP/1.1", ["Transfer-Encoding: chunked"]) + chunked(SMUGGLED), true],
    [
      "GET with Connection naming transfer-encoding",
      head("GET /api/v1/products HTTP/1.1", ["Connection: transfer-encoding", "Transfer-Encoding: chunked"]) + chunked(SMUGGLED),
      false,
    ],
    [
      "GET with Connection naming content-length",
      head("GET /api/v1/products HTTP/1.1", ["Connection: keep-alive, content-length", `Content-Length: ${Buffer.byteLength(SMUGGLED)}`]) + SMUGGLED,
      false,
    ],
    ["OPTIONS with a chunked body", head("OPTIONS /api/v1/products HTTP/1.1", ["Transfer-Encoding: chunked"]) + chunked(SMUGGLED), false],
  ])("%s", async (_label, bytes, headRequest) => {
    const response = await rawExchange(gateway.port, bytes, { headRequest });
    await settle();
    expect(recorder.lines()).toEqual([]);
    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toContain("application/problem+json");
    expect(response.headers.connection).toBe("close");
    if (!headRequest) expectProblem(response, 400, "MALFORMED_REQUEST");
  });

  test("DELETE with a chunked body, even with a valid token", async () => {
    const bytes =
      head("DELETE /api/v1/users/user-1/coupons/uc-1 HTTP/1.1", [`Authorization: Bearer ${userToken}`, "Transfer-Encoding: chunked"]) + chunked(SMUGGLED);
    const response = await rawExchange(gateway.port, bytes);
    await settle();
    expect(recorder.lines()).toEqual([]);
    expectProblem(response, 400, "MALFORMED_REQUEST");
  });

  test("a GET with Content-Length: 0 is fine", async () => {
    const response = await rawExchange(gateway.port, head("GET /api/v1/products HTTP/1.1", ["Content-Length: 0"]));
    expect(response.status).toBe(200);
    await settle();
    expect(recorder.lines()).toEqual(["GET /api/v1/products"]);
    expect(recorder.seen[0]!.headers["content-length"]).toBeUndefined();
    expect(recorder.seen[0]!.headers["transfer-encoding"]).toBeUndefined();
  });
});

describe("conflicting framing is refused by the parser with a problem+json body", () => {
  test.each<[string, string]>([
    [
      "Content-Length and Transfer-Encoding together",
      head("POST /api/v1/admin/products HTTP/1.1", ["Content-Length: 4", "Transfer-Encoding: chunked"]) + chunked(SMUGGLED),
    ],
    ["two Content-Length headers", head("POST /api/v1/admin/products HTTP/1.1", ["Content-Length: 2", "Content-Length: 2"]) + "{}" + SMUGGLED],
    [
      "two different Content-Length headers",
      head("POST /api/v1/admin/products HTTP/1.1", ["Content-Length: 2", `Content-Length: ${2 + SMUGGLED.length}`]) + "{}" + SMUGGLED,
    ],
    ["a transfer coding other than chunked", head("POST /api/v1/admin/products HTTP/1.1", ["Transfer-Encoding: gzip, chunked"]) + chunked(SMUGGLED)],
  ])("%s", async (_label, bytes) => {
    const response = await rawExchange(gateway.port, bytes);
    expectProblem(response, 400, "MALFORMED_REQUEST");
    expect(response.headers.connection).toBe("close");
    await settle();
    expect(recorder.lines()).toEqual([]);
  });
});

describe("Authorization", () => {
  test("a second Authorization header (valid first, garbage second) is refused on every route", async () => {
    for (const target of ["/api/v1/users/user-1/balance", "/api/v1/products", "/healthz", "/openapi.json"]) {
      const bytes = head(`GET ${target} HTTP/1.1`, [`Authorization: Bearer ${userToken}`, "Authorization: Bearer garbage"]);
      expectProblem(await rawExchange(gateway.port, bytes), 400, "MALFORMED_REQUEST");
    }
    await settle();
    expect(recorder.lines()).toEqual([]);
  });

  test("the one Authorization header reaches the service verbatim; identity headers never do", async () => {
    const bytes = head("GET /api/v1/users/user-1/balance HTTP/1.1", [`authorization: Bearer ${userToken}`, "X-User-Id: victim", "X-User-Roles: admin"]);
    expect((await rawExchange(gateway.port, bytes)).status).toBe(200);
    await settle();
    expect(recorder.lines()).toEqual(["GET /api/v1/users/user-1/balance"]);
    const { headers } = recorder.seen[0]!;
    expect(headers.authorization).toBe(`Bearer ${userToken}`);
    expect(headers["x-user-id"]).toBeUndefined();
    expect(headers["x-user-roles"]).toBeUndefined();
  });

  test("a Connection header cannot strip the Authorization the gateway checked", async () => {
    const bytes = head("GET /api/v1/users/user-1/balance HTTP/1.1", [
      `Authorization: Bearer ${userToken}`,
      "Connection: keep-alive, authorization, x-request-id",
    ]);
    expect((await rawExchange(gateway.port, bytes)).status).toBe(200);
    await settle();
    expect(recorder.seen).toHaveLength(1);
    expect(recorder.seen[0]!.headers.authorization).toBe(`Bearer ${userToken}`);
    expect(recorder.seen[0]!.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("a body that may be there arrives as exactly one framed request", () => {
  test("Connection naming content-length cannot unframe a POST", async () => {
    const body = JSON.stringify({ name: "lamp", price: 100, stock: 1 });
    const bytes =
      head("POST /api/v1/admin/products HTTP/1.1", [
        `Authorization: Bearer ${adminToken}`,
        "Content-Type: application/json",
        "Connection: keep-alive, content-length",
        `Content-Length: ${body.length}`,
      ]) + body;
    expect((await rawExchange(gateway.port, bytes)).status).toBe(200);
    await settle();
    expect(recorder.lines()).toEqual(["POST /api/v1/admin/products"]);
    expect(recorder.seen[0]).toMatchObject({ body, headers: { "content-length": String(body.length) } });
  });

  test("a chunked POST whose body is a request stays one request, forwarded with a content-length", async () => {
    const bytes =
      head("POST /api/v1/admin/products HTTP/1.1", [
        `Authorization: Bearer ${adminToken}`,
        "Content-Type: application/json",
        "Connection: transfer-encoding",
        "Transfer-Encoding: chunked",
      ]) + chunked(SMUGGLED);
    expect((await rawExchange(gateway.port, bytes)).status).toBe(200);
    await settle();
    expect(recorder.lines()).toEqual(["POST /api/v1/admin/products"]);
    expect(recorder.seen[0]!.body).toBe(SMUGGLED);
    expect(recorder.seen[0]!.headers["content-length"]).toBe(String(SMUGGLED.length));
    expect(recorder.seen[0]!.headers["transfer-encoding"]).toBeUndefined();
  });

  test("pipelined requests on one client connection reach the service one by one", async () => {
    const first = head("GET /api/v1/products?page=1 HTTP/1.1", []);
    const second = head("GET /api/v1/products?page=2 HTTP/1.1", ["Connection: close"]);
    const response = await rawExchange(gateway.port, first + second, { untilClose: true });
    expect(response.raw.match(/^HTTP\/1\.1 200 /gm)).toHaveLength(2);
    await settle();
    expect(recorder.lines()).toEqual(["GET /api/v1/products?page=1", "GET /api/v1/products?page=2"]);
  });
});

describe("bodies beyond the limit or not JSON", () => {
  const post = (headers: string[]) => head("POST /api/v1/admin/products HTTP/1.1", [`Authorization: Bearer ${adminToken}`, ...headers]);

  test("a declared Content-Length beyond the limit is 413 at once", async () => {
    const body = JSON.stringify({ name: "x".repeat(2000) });
    const response = await rawExchange(smallBodyGateway.port, post(["Content-Type: application/json", `Content-Length: ${body.length}`]) + body);
    expectProblem(response, 413, "PAYLOAD_TOO_LARGE");
    expect(response.headers.connection).toBe("close");
  });

  test("a chunked body that grows beyond the limit is 413", async () => {
    const body = JSON.stringify({ name: "x".repeat(2000) });
    expectProblem(
      await rawExchange(smallBodyGateway.port, post(["Content-Type: application/json", "Transfer-Encoding: chunked"]) + chunked(body)),
      413,
      "PAYLOAD_TOO_LARGE",
    );
  });

  test("a body that is not JSON, or in an encoding the services cannot decode, is 415", async () => {
    expectProblem(await rawExchange(gateway.port, post(["Content-Type: text/plain", "Content-Length: 2"]) + "{}"), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectProblem(await rawExchange(gateway.port, post(["Content-Length: 2"]) + "{}"), 415, "UNSUPPORTED_MEDIA_TYPE");
    // Empty, but declared as text: what the client meant to send is not JSON either.
    expectProblem(await rawExchange(gateway.port, post(["Content-Type: text/plain", "Content-Length: 0"])), 415, "UNSUPPORTED_MEDIA_TYPE");
    await settle();
    expect(recorder.lines()).toEqual([]);
    expectProblem(
      await rawExchange(gateway.port, post(["Content-Type: application/json", "Content-Encoding: compress", "Content-Length: 2"]) + "{}"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expectProblem(
      await rawExchange(gateway.port, post(["Content-Type: application/json", "Content-Encoding: gzip, br", "Content-Length: 2"]) + "{}"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  test("a gzip body is forwarded as it came, for the service to inflate", async () => {
    const body = gzipSync(JSON.stringify({ name: "lamp" }));
    expect(
      (
        await rawExchange(
          gateway.port,
          Buffer.concat([Buffer.from(post(["Content-Type: application/json", "Content-Encoding: gzip", `Content-Length: ${body.length}`])), body]),
        )
      ).status,
    ).toBe(200);
    await settle();
    expect(recorder.seen).toHaveLength(1);
    expect(Buffer.from(recorder.seen[0]!.body, "latin1").equals(body)).toBe(true);
    expect(recorder.seen[0]!.headers).toMatchObject({ "content-encoding": "gzip", "content-length": String(body.length) });
  });

  test("none of them reached the service", async () => {
    await rawExchange(smallBodyGateway.port, post(["Content-Type: application/json", "Content-Length: 5000"]) + "x".repeat(5000));
    await settle();
    expect(recorder.lines()).toEqual([]);
  });

  test("a body at the limit goes through whole, and so does a JSON subtype", async () => {
    const body = JSON.stringify({ name: "x".repeat(1024 - 11) });
    expect(body.length).toBe(1024);
    expect(
      (await rawExchange(smallBodyGateway.port, post(["Content-Type: application/merge-patch+json; charset=utf-8", `Content-Length: ${body.length}`]) + body))
        .status,
    ).toBe(200);
    await settle();
    expect(recorder.seen.map((r) => r.body)).toEqual([body]);
  });
});

describe("what node's parser rejects gets a problem+json body too", () => {
  test("a request line that is not HTTP is 400 MALFORMED_REQUEST", async () => {
    const response = await rawExchange(gateway.port, "GARBAGE\r\n\r\n");
    expectProblem(response, 400, "MALFORMED_REQUEST");
    expect(response.headers.connection).toBe("close");
  });

  test("headers beyond node's limit are 431 HEADERS_TOO_LARGE", async () => {
    expectProblem(await rawExchange(gateway.port, head("GET /api/v1/products HTTP/1.1", [`X-Padding: ${"a".repeat(20_000)}`])), 431, "HEADERS_TOO_LARGE");
  });

  test("a request target over 8 KiB is 414 URI_TOO_LONG", async () => {
    expectProblem(await rawExchange(gateway.port, head(`GET /api/v1/products?q=${"a".repeat(9000)} HTTP/1.1`, [])), 414, "URI_TOO_LONG");
    await settle();
    expect(recorder.lines()).toEqual([]);
  });

  test("an unsupported method under /api is 405 with Allow: the path's methods where the path is the API's, else all the API has", async () => {
    const response = await rawExchange(gateway.port, head("TRACE /api/v1/products HTTP/1.1", []));
    expectProblem(response, 405, "METHOD_NOT_ALLOWED");
    expect(response.headers.allow).toBe("GET, HEAD, OPTIONS");
    const elsewhere = await rawExchange(gateway.port, head("TRACE /api/v1/nothing HTTP/1.1", []));
    expectProblem(elsewhere, 405, "METHOD_NOT_ALLOWED");
    expect(elsewhere.headers.allow).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  });

  test("CONNECT is 405, not a silently dropped connection", async () => {
    expectProblem(await rawExchange(gateway.port, "CONNECT catalog:3002 HTTP/1.1\r\nHost: catalog:3002\r\n\r\n"), 405, "METHOD_NOT_ALLOWED");
  });
});
