import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const body = JSON.stringify({ userId: "baseline", balance: 0 });
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
