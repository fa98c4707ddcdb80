import { ConfigError, telemetryConfigSchema } from "@shop/config";
import { eventually } from "@shop/testing";
import { defineService, runService, type ProcessHost, type ServiceConfig } from "../src/index.ts";
import { recordingLogger, sleep } from "./recording-logger.ts";

const config: ServiceConfig = { ...telemetryConfigSchema.parse({}), LOG_LEVEL: "silent", PORT: 0, HOST: "127.0.0.1" };

/** Stands in for `process`: signals are sent by the test, exits are recorded. */
function fakeProcess() {
  const listeners = new Map<string, () => void>();
  const exits: number[] = [];
  const host: ProcessHost = {
    on: (signal, listener) => listeners.set(signal, listener),
    exit: (code) => void exits.push(code),
  };
  return { host, exits, signal: (name: NodeJS.Signals) => listeners.get(name)?.() };
}

test("Given a start that fails after opening three things, when it is started, then the error comes out and the three are released last-first", async () => {
  const released: string[] = [];
  const service = defineService({
    name: "half-started",
    loadConfig: () => config,
    start: async (_config, ctx) => {
      for (const name of ["pool", "redis", "messaging"]) ctx.own(name, name, (n) => void released.push(n));
      throw new Error("port taken");
    },
  });

  await expect(service.start(config, recordingLogger().logger)).rejects.toThrow("port taken");

  expect(released).toEqual(["messaging", "redis", "pool"]);
});

test("Given a started service, when it is stopped (twice), then everything it opened is released once, last-first, jobs included", async () => {
  const released: string[] = [];
  let ticks = 0;
  const service = defineService({
    name: "running",
    loadConfig: () => config,
    start: async (_config, ctx) => {
      ctx.own("pool", "pool", (n) => void released.push(n));
      ctx.every({ name: "sweeper", intervalMs: 5, run: async () => void (ticks += 1) });
      ctx.own("server", "server", (n) => void released.push(n));
      return { opened: true };
    },
  });
  const running = await service.start(config, recordingLogger().logger);
  expect(running.opened).toBe(true);
  await eventually(() => expect(ticks).toBeGreaterThan(0), 2_000, 5);

  await running.stop();
  await running.stop();

  expect(released).toEqual(["server", "pool"]);
  const ticksAtStop = ticks;
  await sleep(20);
  expect(ticks).toBe(ticksAtStop);
});

test("Given readiness checks registered during the start, when the app reads ctx.readiness, then it sees every one of them", async () => {
  let readiness: Record<string, unknown> = {};
  const service = defineService({
    name: "ready",
    loadConfig: () => config,
    start: async (_config, ctx) => {
      readiness = ctx.readiness;
      ctx.ready("postgres", async () => undefined);
      ctx.ready("redis", async () => undefined);
      return {};
    },
  });
  const running = await service.start(config, recordingLogger().logger);

  expect(Object.keys(readiness)).toEqual(["postgres", "redis"]);
  await running.stop();
});

test("Given a service listening through ctx.listen, when it is stopped, then the port is closed", async () => {
  const { logger, records } = recordingLogger();
  const service = defineService({
    name: "web",
    loadConfig: () => config,
    start: async (_config, ctx) => {
      const server = await ctx.listen((_req, res) => res.end("hello"));
      return { url: server.url };
    },
  });
  const running = await service.start(config, logger);
  expect(await (await fetch(running.url)).text()).toBe("hello");
  expect(records).toContainEqual(expect.objectContaining({ msg: "web listening", fields: { url: running.url } }));

  await running.stop();

  await expect(fetch(running.url)).rejects.toThrow();
});

describe("runService: the service as the process", () => {
  test("Given a running service, when SIGTERM arrives, then it is stopped and the process exits 0", async () => {
    const released: string[] = [];
    const service = defineService({
      name: "svc",
      loadConfig: () => config,
      start: async (_c, ctx) => void ctx.own("pool", "pool", (n) => void released.push(n)),
    });
    const proc = fakeProcess();
    await runService(service, { host: proc.host });
    expect(released).toEqual([]);

    proc.signal("SIGTERM");

    await eventually(() => expect(proc.exits).toEqual([0]), 2_000, 5);
    expect(released).toEqual(["pool"]);
  });

  test("Given a running service, when SIGINT arrives, then it stops the same way", async () => {
    const service = defineService({ name: "svc", loadConfig: () => config, start: async () => ({}) });
    const proc = fakeProcess();
    await runService(service, { host: proc.host });

    proc.signal("SIGINT");

    await eventually(() => expect(proc.exits).toEqual([0]), 2_000, 5);
  });

  test("Given a stop that hangs, when SIGTERM arrives, then the process exits 1 once the shutdown timeout has passed", async () => {
    const service = defineService({ name: "stuck", loadConfig: () => config, start: async (_c, ctx) => void ctx.own("stuck", "stuck", () => sleep(300)) });
    const proc = fakeProcess();
    await runService(service, { host: proc.host, shutdownTimeoutMs: 30 });

    proc.signal("SIGTERM");

    await eventually(() => expect(proc.exits).toEqual([1]), 250, 5);
    await sleep(350); // the stop ends late: no second exit
    expect(proc.exits).toEqual([1]);
  });

  test("Given a stop under way, when a second signal arrives, then the process exits 1 at once", async () => {
    const service = defineService({ name: "slow", loadConfig: () => config, start: async (_c, ctx) => void ctx.own("slow", "slow", () => sleep(200)) });
    const proc = fakeProcess();
    await runService(service, { host: proc.host, shutdownTimeoutMs: 1_000 });

    proc.signal("SIGTERM");
    proc.signal("SIGINT");

    expect(proc.exits).toEqual([1]);
    await sleep(250); // the stop ends: no second exit
    expect(proc.exits).toEqual([1]);
  });

  test("Given an invalid configuration, when the process runs, then it says what is wrong and exits 1 without starting", async () => {
    const { logger, records } = recordingLogger();
    let started = false;
    const service = defineService({
      name: "misconfigured",
      loadConfig: (): ServiceConfig => {
        throw new ConfigError("invalid configuration:\n  - SERVICE_TOKEN_SECRET: is the published development default");
      },
      start: async () => void (started = true),
    });
    const proc = fakeProcess();

    await runService(service, { host: proc.host, bootLogger: logger });

    expect(proc.exits).toEqual([1]);
    expect(started).toBe(false);
    expect(records[0]).toMatchObject({ level: "fatal", msg: expect.stringContaining("SERVICE_TOKEN_SECRET") });
  });

  test("Given a start that fails, when the process runs, then what had started is released and the process exits 1", async () => {
    const released: string[] = [];
    const service = defineService({
      name: "failing",
      loadConfig: () => config,
      start: async (_c, ctx) => {
        ctx.own("pool", "pool", (n) => void released.push(n));
        throw new Error("EADDRINUSE");
      },
    });
    const proc = fakeProcess();

    await runService(service, { host: proc.host });

    expect(proc.exits).toEqual([1]);
    expect(released).toEqual(["pool"]);
  });
});
