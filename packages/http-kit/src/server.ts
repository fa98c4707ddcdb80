import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RequestListener } from "node:http";

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Listens on `port` (0 picks a free one) and closes idle keep-alive sockets on shutdown. */
export async function listen(handler: RequestListener, port: number, host = "127.0.0.1"): Promise<RunningServer> {
  const server = createServer({ keepAliveTimeout: 65_000 }, handler);
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
