// Infrastructure of a test's own, to break at will: a PostgreSQL cluster, a Kafka broker, a Redis
// server and a TCP link that can be cut. The machine's shared PostgreSQL, Redis, broker and
// registry are never stopped; faults are injected only into these.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { eventually } from "./eventually.ts";

/**
 * Ports handed out lie below the kernel's ephemeral range: a port the kernel picked for `listen(0)`
 * and released is free only until an outgoing connection takes it as its local port, which a
 * busy test run does within seconds (EADDRINUSE when the service binds it), and a client
 * reconnecting to a killed server's port in that range can even connect to itself and hold it.
 * Each jest worker draws from its own slice, so parallel test files do not race for one port.
 */
const ephemeralPortsFrom = (() => {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
})();
const PORTS_FROM = 10_000;
const PORT_SLICES = 8;
const handedOut = new Set<number>();

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

export async function freePort(): Promise<number> {
  const sliceSize = Math.floor((ephemeralPortsFrom - PORTS_FROM) / PORT_SLICES);
  const slice = (Number(process.env.JEST_WORKER_ID ?? process.pid) || 0) % PORT_SLICES;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORTS_FROM + slice * sliceSize + Math.floor(Math.random() * sliceSize);
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the check, so concurrent callers cannot draw it meanwhile
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${PORTS_FROM}-${ephemeralPortsFrom - 1}`);
}

/** A process of ours that can be killed with SIGKILL and started again with the same arguments. */
class Restartable {
  private child?: ChildProcess;

  constructor(
    private readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly logFile: string,
    private readonly options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
  ) {}

  start(): void {
    const log = createWriteStream(this.logFile, { flags: "a" });
    const child = spawn(this.command, this.args, {
      stdio: ["ignore", "pipe", "pipe"],
      uid: this.options.uid,
      gid: this.options.gid,
      env: this.options.env ?? process.env,
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ends the process by `signal` and waits until it is gone. */
  stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }

  logTail(): string {
    return existsSync(this.logFile) ? `${this.name}:\n${readFileSync(this.logFile, "utf8").slice(-2_000)}` : "";
  }
}

export interface ThrowawayServer {
  /** kill -9: no shutdown, in-flight work cut wherever it is. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data, and waits until it answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ThrowawayPostgres extends ThrowawayServer {
  host: string;
  port: number;
  user: string;
}

const postgresBin = () => path.join(spawnSync("pg_config", ["--bindir"], { encoding: "utf8" }).stdout.trim());

/**
 * A PostgreSQL cluster in a temporary folder (`initdb`), on a free port, trust auth. PostgreSQL
 * refuses to run as root, so on a root machine it runs as the `postgres` user.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), "shop-pg-"));
  const dataDir = path.join(dir, "data");
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot
    ? {
        uid: Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout),
        gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout),
      }
    : {};
  if (asRoot) chownSync(dir, owner.uid!, owner.gid!);
  const bin = postgresBin();
  const init = spawnSync(path.join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"], {
    encoding: "utf8",
    ...owner,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const server = new Restartable(
    "postgres",
    path.join(bin, "postgres"),
    [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=200",
      "-c",
      "fsync=off",
      "-c",
      "full_page_writes=off",
    ],
    path.join(dir, "postgres.log"),
    owner,
  );
  const answers = () =>
    eventually(
      async () => {
        const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres", connectionTimeoutMillis: 1_000 });
        await client.connect();
        await client.end();
      },
      30_000,
      200,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${server.logTail()}`);
    });
  server.start();
  await answers();
  return {
    host: "127.0.0.1",
    port,
    user: "postgres",
    kill: () => server.stop("SIGKILL"),
    restart: async () => {
      await server.stop("SIGKILL");
      // Backends of a killed postmaster notice it and exit; until then the data folder is in use.
      await eventually(
        async () => {
          server.start();
          await new Promise((resolve) => setTimeout(resolve, 300));
          if (!server.running) throw new Error("postgres did not start yet (old backends still exiting)");
        },
        30_000,
        500,
      );
      await answers();
    },
    stop: async () => {
      await server.stop("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ThrowawayKafka extends ThrowawayServer {
  brokers: string[];
}

/**
 * A single-node KRaft broker in a temporary folder on free ports, from the Kafka classpath that
 * `npm run infra:up` caches (`libsDir`).
 */
export async function startThrowawayKafka(options: { libsDir: string }): Promise<ThrowawayKafka> {
  if (!existsSync(options.libsDir)) throw new Error(`no Kafka classpath at ${options.libsDir}: run npm run infra:up once`);
  const dir = mkdtempSync(path.join(tmpdir(), "shop-kafka-"));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const properties = path.join(dir, "server.properties");
  writeFileSync(
    properties,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      `log.dirs=${path.join(dir, "data")}`,
      "num.partitions=6",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=6",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      // After a kill the restarted broker's registration is refused until the dead one's session
      // expires (9 s by default): that wait, not the outage a test asked for, made a restart take 13 s.
      "broker.session.timeout.ms=2000",
      "broker.heartbeat.interval.ms=500",
      "",
    ].join("\n"),
  );
  const log4j = path.join(dir, "log4j2.properties");
  writeFileSync(
    log4j,
    "status = error\nappender.console.type = Console\nappender.console.name = console\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = WARN\nrootLogger.appenderRef.console.ref = console\n",
  );
  const classpath = `${options.libsDir}/*`;
  const java = (args: string[]) => spawnSync("java", ["-cp", classpath, `-Dlog4j2.configurationFile=${log4j}`, ...args], { encoding: "utf8" });
  const id = java(["kafka.tools.StorageTool", "random-uuid"]);
  if (id.status !== 0) throw new Error(`StorageTool random-uuid failed: ${id.stderr}`);
  const format = java(["kafka.tools.StorageTool", "format", "--standalone", "-t", id.stdout.trim(), "-c", properties]);
  if (format.status !== 0) throw new Error(`StorageTool format failed: ${format.stderr || format.stdout}`);
  const broker = new Restartable(
    "kafka",
    "java",
    [
      "-Xms128m",
      "-Xmx512m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${log4j}`,
      "-cp",
      classpath,
      "kafka.Kafka",
      properties,
    ],
    path.join(dir, "kafka.log"),
  );
  const answers = async () => {
    const { Kafka, logLevel } = await import("kafkajs");
    await eventually(
      async () => {
        const admin = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
        try {
          await admin.connect();
          await admin.describeCluster();
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      90_000,
      300,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${broker.logTail()}`);
    });
  };
  broker.start();
  await answers();
  return {
    brokers: [`127.0.0.1:${port}`],
    kill: () => broker.stop("SIGKILL"),
    restart: async () => {
      await broker.stop("SIGKILL");
      broker.start();
      await answers();
    },
    stop: async () => {
      await broker.stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ThrowawayRedis extends ThrowawayServer {
  url: string;
}

/** A Redis server of our own on a free port, keeping nothing on disk. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), "shop-redis-"));
  const port = await freePort();
  const server = new Restartable(
    "redis",
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    path.join(dir, "redis.log"),
  );
  const answers = () =>
    eventually(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = net.connect({ port, host: "127.0.0.1" });
          socket.once("connect", () => (socket.destroy(), resolve()));
          socket.once("error", reject);
        }),
      10_000,
      100,
    );
  server.start();
  await answers();
  return {
    url: `redis://127.0.0.1:${port}`,
    kill: () => server.stop("SIGKILL"),
    restart: async () => {
      await server.stop("SIGKILL");
      server.start();
      await answers();
    },
    stop: async () => {
      await server.stop("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CuttableLink {
  /** Where clients connect instead of the target. */
  port: number;
  /** Drops every open connection and refuses new ones, as an unreachable host would. */
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

/** A TCP forwarder to `target` that a test can cut and heal (e.g. the schema registry going away). */
export async function startCuttableLink(target: { host: string; port: number }): Promise<CuttableLink> {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
  return {
    port,
    cut: () => {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    heal: () => {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface TcpBalancer {
  /** Where clients connect instead of the instances. */
  port: number;
  add(target: number): void;
  /** New connections stop going to `target`; open ones stay until either side closes them. */
  remove(target: number): void;
  close(): Promise<void>;
}

/**
 * Spreads connections over local ports round-robin, as a Kubernetes Service spreads them over
 * pods (per connection, not per request); a refused connection is tried on the next target.
 */
export async function startTcpBalancer(targets: number[]): Promise<TcpBalancer> {
  const ports = [...targets];
  const sockets = new Set<net.Socket>();
  let next = 0;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    client.pause();
    const attempt = (tries: number) => {
      if (ports.length === 0 || tries >= ports.length) return void client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = net.connect({ port, host: "127.0.0.1" });
      let connected = false;
      upstream.once("error", () => {
        if (!connected) attempt(tries + 1);
      });
      upstream.once("connect", () => {
        connected = true;
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.resume();
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
    };
    attempt(0);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
  return {
    port,
    add: (target) => void ports.push(target),
    remove: (target) => {
      const index = ports.indexOf(target);
      if (index !== -1) ports.splice(index, 1);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
