import type { Logger } from "@shop/logging";
import type { SagaBacklog } from "../domain/admission.ts";

/**
 * Reads how far behind the saga is every `intervalMs`, so that placement can decide without a
 * query of its own. A failed read keeps the last sample, which goes stale and then admits.
 */
export class BacklogSampler {
  private timer?: NodeJS.Timeout;
  private sample?: SagaBacklog;
  private running = false;
  private reading?: Promise<void>;

  constructor(
    private readonly read: () => Promise<Omit<SagaBacklog, "sampledAt">>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  get latest(): SagaBacklog | undefined {
    return this.sample;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.reading;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.reading = this.read()
        .then((backlog) => {
          this.sample = { ...backlog, sampledAt: Date.now() };
        })
        .catch((error: unknown) => this.logger.warn({ err: error }, "could not read the saga backlog; placement admits until it can"))
        .finally(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
