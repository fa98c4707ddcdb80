import { eventually } from "@shop/testing";
import { startPeriodicJob, type PeriodicJob } from "../src/index.ts";
import { recordingLogger, sleep } from "./recording-logger.ts";

let job: PeriodicJob | undefined;
afterEach(async () => {
  await job?.stop();
  job = undefined;
});

test("Given a tick that fails, when the job runs on, then the failure is logged with the job's name and the next tick still runs", async () => {
  const { logger, records } = recordingLogger();
  let ticks = 0;
  job = startPeriodicJob({
    name: "flaky",
    intervalMs: 5,
    logger,
    run: async () => {
      ticks += 1;
      if (ticks === 1) throw new Error("database away");
    },
  });

  await eventually(() => expect(ticks).toBeGreaterThanOrEqual(3), 2_000, 5);

  const failures = records.filter((r) => r.level === "error");
  expect(failures).toHaveLength(1);
  expect(failures[0]!.fields).toMatchObject({ job: "flaky", err: expect.objectContaining({ message: "database away" }) });
});

test("Given a tick in progress, when the job is stopped, then stop resolves only once the tick has finished, and no tick starts after it", async () => {
  const { logger } = recordingLogger();
  const events: string[] = [];
  let release!: () => void;
  const started = new Promise<void>((resolveStarted) => {
    job = startPeriodicJob({
      name: "slow",
      intervalMs: 5,
      logger,
      run: () => {
        events.push("tick started");
        resolveStarted();
        return new Promise<void>((resolve) => (release = resolve)).then(() => void events.push("tick finished"));
      },
    });
  });
  await started;

  const stopping = job!.stop().then(() => void events.push("stopped"));
  await sleep(20);
  expect(events).toEqual(["tick started"]);
  release();
  await stopping;
  await sleep(20);

  expect(events).toEqual(["tick started", "tick finished", "stopped"]);
});

test("Given a tick looping over batches, when the job is stopped, then the tick's signal is aborted so it can end early", async () => {
  const { logger } = recordingLogger();
  let batches = 0;
  let entered!: () => void;
  const inTick = new Promise<void>((resolve) => (entered = resolve));
  job = startPeriodicJob({
    name: "batches",
    intervalMs: 5,
    logger,
    run: async (signal) => {
      entered();
      while (!signal.aborted) {
        batches += 1;
        await sleep(2);
      }
    },
  });
  await inTick;

  await job.stop();

  const after = batches;
  await sleep(20);
  expect(batches).toBe(after);
});

test("Given ticks slower than the interval, when the job runs, then two ticks never overlap", async () => {
  const { logger } = recordingLogger();
  let running = 0;
  let mostAtOnce = 0;
  let ticks = 0;
  job = startPeriodicJob({
    name: "no-overlap",
    intervalMs: 1,
    logger,
    run: async () => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      await sleep(10);
      running -= 1;
      ticks += 1;
    },
  });

  await eventually(() => expect(ticks).toBeGreaterThanOrEqual(3), 2_000, 5);

  expect(mostAtOnce).toBe(1);
});

test("Given initialDelayMs 0, when the job starts, then the first tick runs at once rather than after the interval", async () => {
  const { logger } = recordingLogger();
  let ticks = 0;
  job = startPeriodicJob({ name: "eager", intervalMs: 60_000, initialDelayMs: 0, logger, run: async () => void (ticks += 1) });

  await eventually(() => expect(ticks).toBe(1), 1_000, 5);
});

test("Given jitter, when the job waits, then up to that share of the interval is added to the wait", async () => {
  const { logger } = recordingLogger();
  const startedAt = Date.now();
  let firstTickAfter: number | undefined;
  job = startPeriodicJob({
    name: "jittered",
    intervalMs: 30,
    jitter: 1,
    random: () => 1,
    logger,
    run: async () => void (firstTickAfter ??= Date.now() - startedAt),
  });

  await eventually(() => expect(firstTickAfter).toBeDefined(), 2_000, 5);

  expect(firstTickAfter).toBeGreaterThanOrEqual(55);
});

test("Given a custom error report, when a tick fails, then the report gets the error instead of the default log", async () => {
  const { logger, records } = recordingLogger();
  const reported: unknown[] = [];
  let ticks = 0;
  job = startPeriodicJob({
    name: "reported",
    intervalMs: 5,
    logger,
    onError: (error) => reported.push(error),
    run: async () => {
      ticks += 1;
      throw new Error(`tick ${ticks}`);
    },
  });

  await eventually(() => expect(reported.length).toBeGreaterThanOrEqual(2), 2_000, 5);

  expect(records.filter((r) => r.level === "error")).toEqual([]);
});
