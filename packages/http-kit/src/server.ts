import { randomBytes } from "node:crypto";
import { createServer, STATUS_CODES, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { RequestListener } from "node:http";
import { problem } from "./problem.ts";

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

interface ClientErrorAnswer {
  status: number;
  code: string;
  detail: string;
}

/** Parser errors that mean something more specific than "this is not HTTP"; every other one is a 400. */
const CLIENT_ERROR_ANSWERS: Record<string, ClientErrorAnswer> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: "HEADERS_TOO_LARGE", detail: "the request line and headers are larger than this server accepts" },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, code: "PAYLOAD_TOO_LARGE", detail: "the chunk extensions of the request body are too large" },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: "REQUEST_TIMEOUT", detail: "the request was not received in time" },
};
const MALFORMED: ClientErrorAnswer = {
  status: 400,
  code: "MALFORMED_REQUEST",
  detail: "the request is not valid HTTP/1.1 (request line, headers or message framing)",
};

/** No request to continue a trace from: a fresh trace id still lets a report be matched to a log line. */
const problemBody = (answer: ClientErrorAnswer) =>
  JSON.stringify({
    ...problem(answer.status, answer.code, answer.detail, { title: STATUS_CODES[answer.status] ?? "Error" }),
    traceId: randomBytes(16).toString("hex"),
  });

/** A complete raw HTTP/1.1 answer: no request or response object exists when the parser gives up. */
function rawProblemResponse(answer: ClientErrorAnswer): string {
  const body = problemBody(answer);
  return [
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? "Error"}`,
    "content-type: application/problem+json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    "cache-control: no-store",
    "x-content-type-options: nosniff",
    "connection: close",
    "",
    body,
  ].join("\r\n");
}

/**
 * Node's parser rejected what the client sent (bad request line, header overflow, conflicting
 * framing, timeout). Node's own answer has no body; this one is problem+json like every other
 * error. It is written only when nothing of another response has gone out on the socket yet, so a
 * pipelining client never gets a corrupted stream; the connection is closed either way, because
 * after a framing error nothing later on it can be trusted.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // Node keeps the response being written on the socket here; its own default handler checks it the same way.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  endWithProblem(socket, CLIENT_ERROR_ANSWERS[error.code ?? ""] ?? MALFORMED);
}

function endWithProblem(socket: Socket, answer: ClientErrorAnswer): void {
  socket.end(rawProblemResponse(answer));
  // The read side would otherwise stay half open: nothing more is read from this connection.
  socket.destroySoon();
}

const CONNECT_REFUSED: ClientErrorAnswer = { status: 405, code: "METHOD_NOT_ALLOWED", detail: "CONNECT is not supported: this is not a proxy" };

const MISSING_HOST: ClientErrorAnswer = { status: 400, code: "MALFORMED_REQUEST", detail: "an HTTP/1.1 request must carry a Host header" };

/**
 * RFC 9112 §3.2: an HTTP/1.1 request without Host is refused. Node can check that itself, but its
 * answer bypasses `clientError` and has no body; this one is problem+json like every other error.
 */
function requiringHost(handler: RequestListener): RequestListener {
  return (req, res) => {
    if (req.headers.host !== undefined || req.httpVersion === "1.0") return handler(req, res);
    const body = problemBody(MISSING_HOST);
    res.writeHead(400, {
      "content-type": "application/problem+json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      connection: "close",
    });
    res.end(body);
  };
}

/** Listens on `port` (0 picks a free one) and closes idle keep-alive sockets on shutdown. */
export async function listen(handler: RequestListener, port: number, host = "127.0.0.1"): Promise<RunningServer> {
  const server = createServer({ keepAliveTimeout: 65_000, requireHostHeader: false }, requiringHost(handler));
  server.on("clientError", answerClientError);
  // Node hands CONNECT to this event instead of the handler, and without a listener drops the connection without a word.
  server.on("connect", (_req, socket: Socket) => endWithProblem(socket, CONNECT_REFUSED));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
