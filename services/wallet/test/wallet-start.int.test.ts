import net from "node:net";
import { fileURLToPath } from "node:url";
import { createTestSchema, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadWalletConfig } from "../src/config.ts";
import { start } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
let db: TestSchema;
let occupied: net.Server;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "wallet-start" });
  occupied = net.createServer();
  await new Promise<void>((resolve) => occupied.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  occupied.close();
  await db?.drop();
});

test("a start that fails half-way (its port is taken) releases what it had opened: no relay left publishing", async () => {
  const port = String((occupied.address() as net.AddressInfo).port);
  await expect(
    start(loadWalletConfig({ DATABASE_URL: db.databaseUrl, PORT: port, TOPIC_PREFIX: uniqueTopicPrefix("wstart"), LOG_LEVEL: "silent" }), silentLogger),
  ).rejects.toThrow(/EADDRINUSE/);
  // The outbox relay holds a connection named after its schema while it runs.
  const relays = await db.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [`outbox-relay:${db.schema}`]);
  expect(relays).toEqual([]);
});
