import type { Logger } from "@shop/logging";

export interface PeriodicTask {
  stop(): Promise<void>;
}

/** Runs `task` every `intervalMs` (never two at once); a failure is logged and the next run tries again. */
export function startPeriodic(name: string, intervalMs: number, task: () => Promise<unknown>, logger: Logger): PeriodicTask {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = task()
        .catch((error: unknown) => logger.error({ err: error, task: name }, "periodic task failed"))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
