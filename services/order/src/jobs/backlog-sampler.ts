import type { SagaBacklog } from "../domain/admission.ts";

/**
 * How far behind the saga is, as last read; main.ts runs `refresh` as a periodic job so that
 * placement can decide without a query of its own. A failed read keeps the last sample, which goes
 * stale and then admits.
 */
export class BacklogSampler {
  private sample?: SagaBacklog;

  constructor(
    private readonly read: () => Promise<Omit<SagaBacklog, "sampledAt">>,
    private readonly now: () => number,
  ) {}

  get latest(): SagaBacklog | undefined {
    return this.sample;
  }

  async refresh(): Promise<void> {
    const backlog = await this.read();
    this.sample = { ...backlog, sampledAt: this.now() };
  }
}
