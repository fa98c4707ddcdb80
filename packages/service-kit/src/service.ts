import type { RequestListener } from "node:http";
import { pathToFileURL } from "node:url";
import { Registry } from "prom-client";
import { parseDatabaseUrl, type TelemetryConfig } from "@shop/config";
import { listen, Resources, type ReadinessCheck, type RunningServer } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { startMessaging, type Messaging, type MessagingOptions } from "@shop/outbox";
import { startTelemetry, type Telemetry } from "@shop/telemetry";
import { startPeriodicJob, type PeriodicJob, type PeriodicJobOptions } from "./periodic-job.ts";

/** What every process's configuration has (the base schema of @shop/config gives it). */
type LogLevel = NonNullable<Parameters<typeof createLogger>[1]>;

export interface ServiceConfig extends TelemetryConfig {
  LOG_LEVEL: LogLevel;
  PORT: number;
  HOST: string;
}

/** What `ctx.messaging()` reads: a service with a saga side (an HTTP-only replica sets EVENTS_ENABLED=false). */
export interface MessagingConfig {
  EVENTS_ENABLED: boolean;
  KAFKA_BROKERS: string[];
  SCHEMA_REGISTRY_URL: string;
  TOPIC_PREFIX: string;
  DATABASE_URL: string;
  OUTBOX_LINGER_MS: number;
}

/**
 * What a service's start function builds on. Everything it opens goes through `own` (or a helper
 * that calls it), so a start that fails half-way releases what it had opened, last-first, and
 * `stop()` releases everything in the same order.
 */
export interface ServiceContext<C> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  /** The service's own metrics; hand it to createApp so /metrics serves it. */
  readonly metrics: Registry;
  /** The /readyz checks registered so far (the object fills as the start goes on); hand it to createApp. */
  readonly readiness: Record<string, ReadinessCheck>;
  /** Registers something opened, with how to release it. Returns `resource`. */
  own<T>(name: string, resource: T, release: (resource: T) => unknown): T;
  /** Adds a /readyz check: the service answers 503 while it fails. */
  ready(name: string, check: ReadinessCheck): void;
  /** Starts a periodic job (see startPeriodicJob), stopped on release after its running tick. */
  every(job: Omit<PeriodicJobOptions, "logger">): PeriodicJob;
  /**
   * The outbox relay and the saga consumer (`startMessaging`), with a `kafka` readiness check;
   * undefined when EVENTS_ENABLED is false.
   */
  messaging(
    this: ServiceContext<MessagingConfig>,
    spec: Pick<MessagingOptions, "publishes" | "handlers" | "batchHandlers" | "consumerOptions">,
  ): Promise<Messaging | undefined>;
  /** Listens on PORT and HOST (tests pass port 0) and logs the URL; the server closes first on stop. */
  listen(handler: RequestListener, logFields?: Record<string, unknown>): Promise<RunningServer>;
}

export interface ServiceDefinition<C extends ServiceConfig, R, O> {
  name: string;
  loadConfig: () => C;
  /** Builds the service: the composition root. Whatever it opens goes through `ctx`. */
  start: (config: C, ctx: ServiceContext<C>, options: O) => Promise<R>;
}

export interface Stoppable {
  /** Releases everything the start opened, last-first; a resource that fails or hangs does not keep the rest open. */
  stop(): Promise<void>;
}

export interface Service<C extends ServiceConfig, R, O> {
  name: string;
  loadConfig: () => C;
  /** Starts the service in this process (tests call it with their own config and logger). */
  start: (config?: C, logger?: Logger, options?: O) => Promise<R & Stoppable>;
}

/** Declares a service; `start()` runs it in-process, `runService()` runs it as the process. */
export function defineService<C extends ServiceConfig, R, O = Record<string, never>>(definition: ServiceDefinition<C, R, O>): Service<C, R, O> {
  const { name, loadConfig } = definition;
  return {
    name,
    loadConfig,
    start: async (config = loadConfig(), logger = createLogger(name, config.LOG_LEVEL), options = {} as O) => {
      const resources = new Resources(logger);
      const ctx = createContext(name, config, logger, resources);
      try {
        const running = await definition.start(config, ctx, options);
        return { ...running, stop: () => resources.releaseAll() };
      } catch (error) {
        // Nothing half-started stays behind: no relay publishing, no consumer in the group, no port held.
        await resources.releaseAll().catch(() => undefined);
        throw error;
      }
    },
  };
}

function createContext<C extends ServiceConfig>(name: string, config: C, logger: Logger, resources: Resources): ServiceContext<C> {
  const readiness: Record<string, ReadinessCheck> = {};
  const ctx: ServiceContext<C> = {
    name,
    config,
    logger,
    metrics: new Registry(),
    readiness,
    own: (resourceName, resource, release) => resources.add(resourceName, resource, release),
    ready: (checkName, check) => {
      readiness[checkName] = check;
    },
    every: (job) => resources.add(`job ${job.name}`, startPeriodicJob({ ...job, logger }), (j) => j.stop()),
    async messaging(spec) {
      const events = this.config;
      if (!events.EVENTS_ENABLED) return undefined;
      const messaging = resources.add(
        "messaging",
        await startMessaging({
          service: name,
          brokers: events.KAFKA_BROKERS,
          registryUrl: events.SCHEMA_REGISTRY_URL,
          topicPrefix: events.TOPIC_PREFIX,
          database: parseDatabaseUrl(events.DATABASE_URL),
          outboxLingerMs: events.OUTBOX_LINGER_MS,
          logger,
          metrics: this.metrics,
          ...spec,
        }),
        (m) => m.stop(),
      );
      readiness.kafka = () => messaging.ready();
      return messaging;
    },
    listen: async (handler, logFields = {}) => {
      const server = resources.add("http server", await listen(handler, config.PORT, config.HOST), (s) => s.close());
      logger.info({ url: server.url, ...logFields }, `${name} listening`);
      return server;
    },
  };
  return ctx;
}

/** What runService needs of the process (tests pass a stand-in). */
export interface ProcessHost {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: number): void;
}

export interface RunOptions {
  /** How long a signalled stop may take before the process exits anyway (Kubernetes' grace period is 30 s, 5 of them in preStop). */
  shutdownTimeoutMs?: number;
  host?: ProcessHost;
  /** The logger of a process whose configuration could not be read (and so has no LOG_LEVEL). */
  bootLogger?: Logger;
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Runs a service as the process: reads the configuration (a bad one stops the process with the
 * list of what is wrong), starts tracing if it asks for it (@shop/telemetry), starts the service (a
 * failed start exits 1 after releasing what had started), and stops it on SIGTERM or SIGINT,
 * exiting 0 once everything is released and the last spans exported, 1 if that fails or takes
 * longer than the timeout. A second signal exits at once.
 */
export async function runService<C extends ServiceConfig, R, O>(service: Service<C, R, O>, options: RunOptions = {}): Promise<void> {
  const host = options.host ?? process;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 20_000;
  let config: C;
  try {
    config = service.loadConfig();
  } catch (error) {
    (options.bootLogger ?? createLogger(service.name)).fatal(
      { err: error },
      `${service.name} not started: ${error instanceof Error ? error.message : String(error)}`,
    );
    host.exit(1);
    return;
  }
  const logger = createLogger(service.name, config.LOG_LEVEL);
  let telemetry: Telemetry | undefined;
  let running: Stoppable;
  try {
    // Before the service opens anything: its servers, pools and clients are then instrumented.
    telemetry = await startTelemetry(config, service.name);
    if (telemetry) logger.info({ exporter: telemetry.settings.exporter, url: telemetry.settings.url }, "tracing on");
    running = await service.start(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, `${service.name} could not start; what had started is released`);
    host.exit(1);
    return;
  }
  let stopping = false;
  let exited = false;
  // Once: a stop that ends after the timeout (or the second signal) must not exit again.
  const exit = (code: number) => {
    if (!exited) host.exit(code);
    exited = true;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without waiting for the stop");
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, `${service.name} stopping`);
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: shutdownTimeoutMs }, `${service.name} did not stop in time; exiting`);
      exit(1);
    }, shutdownTimeoutMs);
    const stopAll = async () => {
      try {
        await running.stop();
      } finally {
        await telemetry?.shutdown();
      }
    };
    stopAll().then(
      () => {
        clearTimeout(timer);
        logger.info(`${service.name} stopped`);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error({ err: error }, `${service.name} stopped with errors`);
        exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) host.on(signal, () => onSignal(signal));
}

/** True when `moduleUrl` (a module's `import.meta.url`) is the file node was asked to run. */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(entry).href;
}

/** The clock a composition root gives the domain unless a test pins one. */
export const systemClock = (): Date => new Date();
