import type { Logger } from "@shop/logging";
import type { OrderService } from "../domain/order-service.ts";
import type { Clock } from "../domain/ports.ts";

const BATCH_SIZE = 100;

/**
 * Fails PENDING orders past their deadline with TIMEOUT; main.ts runs `sweep` as a periodic job.
 * Every instance may run one: overdue rows are claimed with SKIP LOCKED, so each order times out
 * exactly once.
 */
export class DeadlineSweeper {
  constructor(
    private readonly orders: OrderService,
    private readonly logger: Logger,
    private readonly now: Clock,
  ) {}

  /** One pass: batches until no overdue order is left, or until `signal` aborts (the job is stopping). */
  async sweep(signal?: AbortSignal): Promise<number> {
    let total = 0;
    for (;;) {
      const failed = await this.orders.failOverdueOrders(this.now(), BATCH_SIZE);
      total += failed;
      if (failed < BATCH_SIZE || signal?.aborted) break;
    }
    if (total) this.logger.info({ orders: total }, "orders past their deadline failed with TIMEOUT");
    return total;
  }
}
