import type { Logger } from "@shop/logging";

export interface PeriodicJobOptions {
  /** Names the job in logs. */
  name: string;
  /** Wait between the end of one tick and the start of the next: two ticks never overlap. */
  intervalMs: number;
  /** One tick. `signal` aborts when the job is stopped, so a long tick (a loop over batches) can end early. */
  run: (signal: AbortSignal) => Promise<unknown>;
  logger: Logger;
  /** Wait before the first tick; `intervalMs` unless given (0: at once). */
  initialDelayMs?: number;
  /** Up to this fraction of `intervalMs` (0–1) is added at random to each wait, so replicas do not tick in step. */
  jitter?: number;
  /** A failed tick is logged here (default: an error with the job's name); the next tick runs on schedule either way. */
  onError?: (error: unknown) => void;
  /** Randomness of the jitter (tests pin it). */
  random?: () => number;
}

export interface PeriodicJob {
  readonly name: string;
  /** No further tick starts; resolves once the tick in progress, if any, has finished. */
  stop(): Promise<void>;
}

/** Runs `run` every `intervalMs` until stopped. The timers do not keep the process alive on their own. */
export function startPeriodicJob(options: PeriodicJobOptions): PeriodicJob {
  const { name, intervalMs, run, logger } = options;
  const jitter = Math.min(Math.max(options.jitter ?? 0, 0), 1);
  const random = options.random ?? Math.random;
  const onError = options.onError ?? ((error: unknown) => logger.error({ err: error, job: name }, "periodic job failed; it runs again next interval"));
  const aborter = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;

  const schedule = (delayMs: number) => {
    if (aborter.signal.aborted) return;
    timer = setTimeout(tick, delayMs + Math.round(intervalMs * jitter * random()));
    timer.unref();
  };
  const tick = () => {
    ticking = Promise.resolve()
      .then(() => run(aborter.signal))
      .then(
        () => undefined,
        (error: unknown) => {
          try {
            onError(error);
          } catch {
            // A failing error report must not end the job.
          }
        },
      )
      .finally(() => {
        ticking = undefined;
        schedule(intervalMs);
      });
  };
  schedule(options.initialDelayMs ?? intervalMs);

  return {
    name,
    stop: async () => {
      aborter.abort();
      clearTimeout(timer);
      await ticking;
    },
  };
}
