// Clients for the security tests that fetch() cannot be: exact bytes on a socket, and requests whose
// path, headers or body fetch() would normalise or refuse, from a chosen loopback source address
// (each address is a distinct client for the gateway's per-client limits).
import http from "node:http";
import net from "node:net";

export interface Answer {
  status: number;
  /** Lower-case names; a header sent twice is kept as an array. */
  headers: Record<string, string | string[]>;
  text: string;
}

/** The JSON body of an answer, or undefined when it is not JSON. */
export function jsonOf(answer: Answer): any {
  try {
    return JSON.parse(answer.text);
  } catch {
    return undefined;
  }
}

export const headerOf = (answer: Answer, name: string): string | undefined => {
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : value;
};

export interface SendOptions {
  method: string;
  /** Sent verbatim: no normalisation of `..`, `//` or percent-encoding. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Frame the body with `Transfer-Encoding: chunked` instead of `Content-Length`. */
  chunked?: boolean;
  /** Source address: 127.0.0.0/8 is all loopback on Linux, so each address is another client. */
  localAddress?: string;
  timeoutMs?: number;
}

/** Bodies beyond this are written in slices, so that an early refusal stops the writing (see `send`). */
const PACED_BODY_BYTES = 64 * 1024;
const BODY_SLICE_BYTES = 16 * 1024;
/** How long a large body waits for an answer to its headers alone before it is sent. */
const EARLY_ANSWER_WAIT_MS = 100;

/**
 * One request on a fresh connection (no pooling: the gateway closes connections after framing
 * errors, and a reused socket would turn that into a spurious ECONNRESET). A large body is sent as a
 * careful client (curl with `Expect: 100-continue`) would: headers first, then the body in slices,
 * stopping as soon as an answer arrives. A server that refuses a body by its declared size closes
 * the connection without reading it, and a client still writing into that close gets EPIPE before
 * it has read the refusal.
 */
export function send(baseUrl: string, options: SendOptions): Promise<Answer> {
  const url = new URL(baseUrl);
  const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, "utf8");
  const headers: Record<string, string | string[]> = { ...options.headers };
  if (body !== undefined) {
    // Always framed explicitly: Node writes a GET body without framing otherwise, which is a smuggling attempt of its own.
    if (options.chunked) headers["transfer-encoding"] = "chunked";
    else headers["content-length"] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: Number(url.port),
      method: options.method,
      path: options.path,
      headers,
      localAddress: options.localAddress,
      agent: false,
      timeout: options.timeoutMs ?? 15_000,
    });
    let answered = false;
    let onAnswer: () => void = () => undefined;
    const answer = new Promise<void>((resolveAnswer) => (onAnswer = resolveAnswer));
    request.on("timeout", () =>
      request.destroy(new Error(`no answer to ${options.method} ${options.path.slice(0, 120)} within ${options.timeoutMs ?? 15_000} ms`)),
    );
    // A server may answer early (413, 415) and close while the body is still being written: the
    // answer counts, the write error after it does not.
    request.on("error", (error) => {
      if (!answered) reject(error);
    });
    request.on("response", (response) => {
      answered = true;
      onAnswer();
      const chunks: Buffer[] = [];
      const finish = () => {
        const answerHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) answerHeaders[name] = value;
        resolve({ status: response.statusCode!, headers: answerHeaders, text: Buffer.concat(chunks).toString("utf8") });
        // A body cut short by the answer is never finished: the connection goes.
        if (!request.writableEnded) request.destroy();
      };
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", finish);
      response.on("close", finish);
      response.on("error", () => undefined);
    });
    if (body === undefined || body.length <= PACED_BODY_BYTES) return void request.end(body);
    request.flushHeaders();
    void (async () => {
      await Promise.race([answer, new Promise((wait) => setTimeout(wait, EARLY_ANSWER_WAIT_MS))]);
      for (let offset = 0; offset < body.length && !answered && !request.destroyed; offset += BODY_SLICE_BYTES) {
        await new Promise<void>((written) => request.write(body.subarray(offset, offset + BODY_SLICE_BYTES), () => written()));
      }
      if (!answered && !request.destroyed) request.end();
    })();
  });
}

export interface RawExchange {
  /** Every complete response read from the connection, in order. */
  responses: Answer[];
  /** Everything the server wrote (latin1), for failure messages. */
  raw: string;
}

interface Parsed {
  answer: Answer;
  rest: Buffer;
}

const NO_BODY_STATUS = (status: number) => status < 200 || status === 204 || status === 304;

/** One response from the start of `buffer`, or undefined while it is incomplete. */
function parseResponse(buffer: Buffer, headRequest: boolean, closed: boolean): Parsed | undefined {
  const end = buffer.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const [statusLine, ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? NaN);
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const existing = headers[name];
    headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  let rest: Buffer = buffer.subarray(end + 4);
  let body: Buffer = Buffer.alloc(0);
  const transferEncoding = String(headers["transfer-encoding"] ?? "").toLowerCase();
  if (headRequest || NO_BODY_STATUS(status)) {
    // no body
  } else if (transferEncoding.includes("chunked")) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = rest.indexOf("\r\n");
      if (lineEnd === -1) return undefined;
      const size = parseInt(rest.subarray(0, lineEnd).toString("latin1"), 16);
      if (Number.isNaN(size)) return undefined;
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
      if (size === 0) break;
    }
    body = Buffer.concat(parts);
  } else if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (rest.length < length) return undefined;
    body = rest.subarray(0, length);
    rest = rest.subarray(length);
  } else {
    // Delimited by the end of the connection.
    if (!closed) return undefined;
    body = rest;
    rest = Buffer.alloc(0);
  }
  return { answer: { status, headers, text: body.toString("utf8") }, rest };
}

/**
 * Writes `bytes` on a new connection and reads what comes back: until the server closes the
 * connection, or until `expectResponses` responses are complete and nothing more arrives for
 * `graceMs` (a desynchronised server may still send an extra one).
 */
export function rawExchange(
  baseUrl: string,
  bytes: string | Buffer,
  options: { localAddress?: string; headRequest?: boolean; expectResponses?: number; graceMs?: number; timeoutMs?: number } = {},
): Promise<RawExchange> {
  const url = new URL(baseUrl);
  const expected = options.expectResponses ?? 1;
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress: options.localAddress });
    let received: Buffer = Buffer.alloc(0);
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      clearTimeout(deadline);
      socket.destroy();
      const responses: Answer[] = [];
      let rest: Buffer = received;
      for (;;) {
        const parsed = parseResponse(rest, options.headRequest === true && responses.length === 0, closed);
        if (!parsed) break;
        responses.push(parsed.answer);
        rest = parsed.rest;
      }
      resolve({ responses, raw: received.toString("latin1") });
    };
    const deadline = setTimeout(() => finish(false), options.timeoutMs ?? 5_000);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let count = 0;
      let rest: Buffer = received;
      for (;;) {
        const parsed = parseResponse(rest, options.headRequest === true && count === 0, false);
        if (!parsed) break;
        count++;
        rest = parsed.rest;
      }
      if (count >= expected) {
        clearTimeout(grace);
        grace = setTimeout(() => finish(false), options.graceMs ?? 150);
      }
    });
    // A reset after the answer (the server closing a connection it no longer trusts) is not a failure of the exchange.
    socket.on("error", () => finish(true));
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
  });
}
