import type { Logger } from "@shop/logging";
import type { OrderService } from "../domain/order-service.ts";

const BATCH_SIZE = 100;

/**
 * Fails PENDING orders past their deadline with TIMEOUT, every `intervalMs`. Every instance may
 * run one: overdue rows are claimed with SKIP LOCKED, so each order times out exactly once.
 */
export class DeadlineSweeper {
  private timer?: NodeJS.Timeout;
  private running = false;
  private sweeping?: Promise<void>;

  constructor(
    private readonly orders: OrderService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  /** One pass: batches until no overdue order is left (or the sweeper is stopped). */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const failed = await this.orders.failOverdueOrders(new Date(), BATCH_SIZE);
      total += failed;
      if (failed < BATCH_SIZE || !this.running) break;
    }
    if (total) this.logger.info({ orders: total }, "orders past their deadline failed with TIMEOUT");
    return total;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ err: error }, "deadline sweep failed; retrying next interval"))
        .finally(() => {
          this.sweeping = undefined;
          this.schedule();
        });
    }, this.intervalMs);
  }
}
