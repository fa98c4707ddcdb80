export {
  defineService,
  runService,
  isEntryPoint,
  systemClock,
  type Service,
  type ServiceConfig,
  type ServiceContext,
  type ServiceDefinition,
  type MessagingConfig,
  type ProcessHost,
  type RunOptions,
  type Stoppable,
} from "./service.ts";
export { startPeriodicJob, type PeriodicJob, type PeriodicJobOptions } from "./periodic-job.ts";
export { createRedis, closeRedis, whenReady, Redis, type RedisOptions } from "./redis.ts";
