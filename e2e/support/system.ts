import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expectConsistent } from "./audit.ts";
import {
  createTestSchema,
  eventually,
  freePort,
  startTcpBalancer,
  uniqueTopicPrefix,
  type PostgresServer,
  type TcpBalancer,
  type TestSchema,
} from "@shop/testing";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const serviceNames = ["wallet", "catalog", "coupon", "order", "payment"] as const;
export type ServiceName = (typeof serviceNames)[number];

interface Unit {
  name: ServiceName | "gateway";
  dir: string;
  env: Record<string, string>;
  port: number;
  /** Its log file's name: the service, with the instance number when there are several. */
  logName: string;
  child?: ChildProcess;
}

export interface TestSystem {
  gatewayUrl: string;
  /** Each service's own address, for requests that bypass the gateway (as another pod could). */
  serviceUrls: Record<ServiceName, string>;
  topicPrefix: string;
  schemas: Record<ServiceName, TestSchema>;
  /** Fails unless the invariant audit finds nothing (waiting for compensations in flight). */
  expectConsistent(timeoutMs?: number): Promise<void>;
  /** kill -9 of a service's first instance: no shutdown hook runs, in-flight work is cut wherever it is. */
  kill(name: ServiceName): Promise<void>;
  restart(name: ServiceName): Promise<void>;
  /** Starts one more instance of a service (it joins the consumer group and the balancer once ready); returns its index. */
  addInstance(name: ServiceName): Promise<number>;
  /** Takes an instance out of the balancer, then stops it gracefully (SIGTERM), as a rolling update or a scale-down does. */
  stopInstance(name: ServiceName, index: number): Promise<void>;
  /** Instances of a service that are running. */
  runningInstances(name: ServiceName): number;
  /** Checks the invariants over everything the test did (unless `audit` is false), then stops every process and drops the schemas. */
  stop(options?: { audit?: boolean }): Promise<void>;
}

export interface TestSystemOptions {
  env?: Record<string, string>;
  perService?: Partial<Record<ServiceName | "gateway", Record<string, string>>>;
  /** The PostgreSQL holding the services' schemas: the machine's shared one unless a test brings its own. */
  postgres?: PostgresServer;
  /**
   * Instances of every service (1). With more, each service is reached through a round-robin TCP
   * balancer, as a Kubernetes Service spreads connections over pods.
   */
  instances?: number;
}

/**
 * The whole system as separate processes, as in production, on fresh database schemas and topics
 * of this test file; logs go to .infra/e2e-logs/<prefix>/<service>[-<instance>].log.
 */
export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  const topicPrefix = uniqueTopicPrefix("e2e");
  const logDir = path.join(root, ".infra", "e2e-logs", topicPrefix.replace(/\.$/, ""));
  mkdirSync(logDir, { recursive: true });
  const schemas = Object.fromEntries(
    await Promise.all(
      serviceNames.map(
        async (name) =>
          [
            name,
            await createTestSchema({
              migrationsDir: path.join(root, "services", name, "prisma", "migrations"),
              label: `e2e-${name}`,
              server: options.postgres,
            }),
          ] as const,
      ),
    ),
  ) as Record<ServiceName, TestSchema>;
  const common = { TOPIC_PREFIX: topicPrefix, LOG_LEVEL: "warn", REDIS_KEY_PREFIX: topicPrefix, ...options.env };
  const instances = options.instances ?? 1;
  const serviceEnv = (name: ServiceName, port: number) => ({
    ...common,
    PORT: String(port),
    DATABASE_URL: schemas[name].databaseUrl,
    ...options.perService?.[name],
  });
  const units: Unit[] = [];
  for (const name of serviceNames) {
    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      units.push({ name, dir: path.join(root, "services", name), port, env: serviceEnv(name, port), logName: instances > 1 ? `${name}-${i}` : name });
    }
  }
  // One address per service, as the gateway and the other services are configured with.
  const balancers = new Map<ServiceName, TcpBalancer>();
  if (instances > 1) {
    for (const name of serviceNames) balancers.set(name, await startTcpBalancer(units.filter((u) => u.name === name).map((u) => u.port)));
  }
  const url = (name: ServiceName) => `http://127.0.0.1:${balancers.get(name)?.port ?? units.find((u) => u.name === name)!.port}`;
  const gatewayPort = await freePort();
  units.push({
    name: "gateway",
    dir: path.join(root, "gateway"),
    port: gatewayPort,
    logName: "gateway",
    env: {
      ...common,
      PORT: String(gatewayPort),
      UPSTREAMS: serviceNames.join(","),
      WALLET_URL: url("wallet"),
      CATALOG_URL: url("catalog"),
      COUPON_URL: url("coupon"),
      ORDER_URL: url("order"),
      PAYMENT_URL: url("payment"),
      ...options.perService?.gateway,
    },
  });
  const peers = (name: ServiceName): Record<string, string> =>
    name === "order" ? { CATALOG_URL: url("catalog"), COUPON_URL: url("coupon") } : name === "coupon" ? { ORDER_URL: url("order") } : {};
  for (const unit of units) if (unit.name !== "gateway") Object.assign(unit.env, peers(unit.name));

  const launch = (unit: Unit) => {
    const log = createWriteStream(path.join(logDir, `${unit.logName}.log`), { flags: "a" });
    const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", "--import", "tsx", "src/main.ts"], {
      cwd: unit.dir,
      env: { ...process.env, ...unit.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    unit.child = child;
  };
  const ready = (unit: Unit) =>
    eventually(
      async () => {
        if (unit.child?.exitCode !== null) {
          const log = readFileSync(path.join(logDir, `${unit.logName}.log`), "utf8").slice(-2_000);
          throw new Error(`${unit.name} exited during start-up:\n${log}`);
        }
        const response = await fetch(`http://127.0.0.1:${unit.port}/readyz`);
        if (!response.ok) throw new Error(`${unit.name} not ready: ${response.status}`);
      },
      60_000,
      200,
    );
  const stopUnit = (unit: Unit, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const child = unit.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });

  units.forEach(launch);
  try {
    await Promise.all(units.map(ready));
  } catch (error) {
    // A system that did not come up must not leave processes or schemas behind.
    await Promise.all(units.map((u) => stopUnit(u, "SIGKILL")));
    await Promise.all([...balancers.values()].map((b) => b.close()));
    await Promise.all(Object.values(schemas).map((s) => s.drop()));
    throw error;
  }
  const instancesOf = (name: ServiceName) => units.filter((u) => u.name === name);
  const unitOf = (name: ServiceName) => units.find((u) => u.name === name)!;
  return {
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    serviceUrls: Object.fromEntries(serviceNames.map((name) => [name, url(name)])) as Record<ServiceName, string>,
    topicPrefix,
    schemas,
    kill: (name) => stopUnit(unitOf(name), "SIGKILL"),
    restart: async (name) => {
      const unit = unitOf(name);
      await stopUnit(unit, "SIGKILL");
      launch(unit);
      await ready(unit);
    },
    addInstance: async (name) => {
      const index = instancesOf(name).length;
      const port = await freePort();
      const unit: Unit = {
        name,
        dir: path.join(root, "services", name),
        port,
        env: { ...serviceEnv(name, port), ...peers(name) },
        logName: `${name}-${index}`,
      };
      units.push(unit);
      launch(unit);
      await ready(unit);
      balancers.get(name)?.add(port);
      return index;
    },
    stopInstance: async (name, index) => {
      const unit = instancesOf(name)[index]!;
      balancers.get(name)?.remove(unit.port);
      await stopUnit(unit, "SIGTERM");
    },
    runningInstances: (name) => instancesOf(name).filter((u) => u.child && u.child.exitCode === null && u.child.signalCode === null).length,
    expectConsistent: (timeoutMs) => expectConsistent(schemas, timeoutMs),
    stop: async ({ audit = true } = {}) => {
      try {
        if (audit) await expectConsistent(schemas);
      } finally {
        await Promise.all(units.map((u) => stopUnit(u, "SIGTERM")));
        await Promise.all([...balancers.values()].map((b) => b.close()));
        await Promise.all(Object.values(schemas).map((s) => s.drop()));
      }
    },
  };
}
