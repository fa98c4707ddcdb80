import { readFileSync } from "node:fs";
import net from "node:net";
import { freePort } from "../src/index.ts";

const [ephemeralFrom] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);

const listen = (port: number) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

test("ports lie below the kernel's ephemeral range, where no outgoing connection can take them before the server binds", async () => {
  const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
  for (const port of ports) expect(port).toBeLessThan(ephemeralFrom!);
});

test("a port is handed out once, also to concurrent callers, and it can be bound", async () => {
  const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
  expect(new Set(ports).size).toBe(ports.length);
  const servers = await Promise.all(ports.map(listen));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});
