// Shared by the gateway's edge tests: a recording stand-in for the services, a raw-socket client
// that sends exact bytes, and an HTTP client that can pick its loopback source address.
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { silentLogger, testJwt } from "@shop/testing";
import { loadGatewayConfig } from "../src/config.ts";
import { start as startGateway, type RunningGateway } from "../src/main.ts";

/** One request as the stand-in parsed it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Recorder {
  url: string;
  /** Every request the stand-in parsed, in order: a smuggled request shows up as an extra entry. */
  seen: SeenRequest[];
  /** Method and target of every request seen, the shape most assertions want. */
  lines(): string[];
  close(): Promise<void>;
}

/**
 * A service stand-in that records every request it parses. `/status/<code>` answers that status,
 * `/cacheable` answers with cache headers of its own (varying by encoding), `/shared` with headers
 * that let a shared cache keep it for a second; anything else 200 `{ok: true}`.
 */
export function startRecorder(): Promise<Recorder> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString("latin1") });
      const status = /\/status\/(\d{3})/.exec(req.url!);
      if (status) {
        res.writeHead(Number(status[1]), { "content-type": "application/problem+json", "x-upstream": "recorder" });
        return void res.end(JSON.stringify({ code: "RECORDER_ANSWER", status: Number(status[1]) }));
      }
      const cacheHeaders = req.url!.includes("/cacheable")
        ? { "cache-control": "public, max-age=60", vary: "accept-encoding" }
        : req.url!.includes("/shared")
          ? { "cache-control": "public, max-age=0, s-maxage=1" }
          : {};
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "recorder", ...cacheHeaders });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        lines: () => seen.map((r) => `${r.method} ${r.url}`),
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

/** A gateway whose every upstream is `upstreamUrl`, with the test token settings. */
export function startTestGateway(upstreamUrl: string, env: Record<string, string> = {}): Promise<RunningGateway> {
  const upstreamEnv = { WALLET_URL: upstreamUrl, CATALOG_URL: upstreamUrl, COUPON_URL: upstreamUrl, ORDER_URL: upstreamUrl, PAYMENT_URL: upstreamUrl };
  const config = loadGatewayConfig({
    PORT: "0",
    JWT_SECRET: testJwt.secret,
    JWT_ISSUER: testJwt.issuer,
    JWT_AUDIENCE: testJwt.audience,
    UPSTREAMS: "wallet,catalog,coupon,order,payment",
    ...upstreamEnv,
    ...env,
  });
  return startGateway(config, silentLogger);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed, when it is JSON. */
  body: any;
  /** Everything received on the connection, for diagnostics. */
  raw: string;
}

function withParsedBody(response: Omit<RawResponse, "body">): RawResponse {
  const isJson = /json/.test(response.headers["content-type"] ?? "");
  return { ...response, body: isJson && response.text ? JSON.parse(response.text) : undefined };
}

function parseHead(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers };
}

/** The first complete response in `data`, or undefined while it is still arriving. */
function firstResponse(data: Buffer, bodiless: boolean): RawResponse | undefined {
  const parsed = firstResponseText(data, bodiless);
  return parsed && withParsedBody(parsed);
}

function firstResponseText(data: Buffer, bodiless: boolean): Omit<RawResponse, "body"> | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const { status, headers } = parseHead(data.subarray(0, headEnd).toString("latin1"));
  const rest = data.subarray(headEnd + 4);
  const raw = data.toString("latin1");
  if (bodiless || status === 204 || status === 304 || status < 200) return { status, headers, text: "", raw };
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    return rest.length >= length ? { status, headers, text: rest.subarray(0, length).toString("utf8"), raw } : undefined;
  }
  if (headers["transfer-encoding"] === "chunked") {
    if (!rest.includes("0\r\n\r\n")) return undefined;
    let body = "";
    let offset = 0;
    for (;;) {
      const lineEnd = rest.indexOf("\r\n", offset);
      const size = Number.parseInt(rest.subarray(offset, lineEnd).toString("latin1"), 16);
      if (size === 0) break;
      body += rest.subarray(lineEnd + 2, lineEnd + 2 + size).toString("utf8");
      offset = lineEnd + 2 + size + 2;
    }
    return { status, headers, text: body, raw };
  }
  return undefined;
}

/**
 * Sends `bytes` exactly as given on a fresh connection and resolves with the first complete
 * response (or, with `untilClose`, once the server closed; `raw` then holds every response). The
 * connection is not half-closed first: node would then abort the request in flight.
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  options: { headRequest?: boolean; timeoutMs?: number; untilClose?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${options.timeoutMs ?? 5000} ms; got ${JSON.stringify(data.toString("latin1"))}`));
    }, options.timeoutMs ?? 5000);
    const finish = (response: RawResponse) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(response);
    };
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const response = firstResponse(data, options.headRequest ?? false);
      if (response && !options.untilClose) finish(response);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      const response = firstResponse(data, options.headRequest ?? false);
      if (response) finish(response);
      else {
        clearTimeout(timer);
        reject(new Error(`connection closed without a complete response; got ${JSON.stringify(data.toString("latin1"))}`));
      }
    });
  });
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

/** One HTTP request with node's client, so that the source address can be chosen (127.0.0.2, 127.0.0.3… act as other clients). */
export function httpCall(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; localAddress?: string } = {},
): Promise<Answer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `${url.pathname}${url.search}`,
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const isJson = /json/.test(res.headers["content-type"] ?? "");
          resolve({ status: res.statusCode!, headers: res.headers, text, body: isJson && text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The shape of every error body (RFC 9457 plus the project's code and trace id). */
export function expectProblem(
  answer: { status: number; headers: Record<string, string | string[] | undefined>; body: unknown },
  status: number,
  code: string,
): void {
  expect(answer.status).toBe(status);
  expect(String(answer.headers["content-type"])).toContain("application/problem+json");
  expect(answer.headers["cache-control"]).toBe("no-store");
  expect(answer.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
}

/** Lets a request that would have been smuggled reach the stand-in before asserting that none did. */
export const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));
