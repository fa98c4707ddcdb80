import pg from "pg";
import type { DatabaseLocation } from "@shop/config";
import type { Logger } from "@shop/logging";
import type { OrderChangeFeed, OrderWatch } from "../domain/ports.ts";

/** The NOTIFY channel on which a committed change of an order's state carries the order id. */
export function orderChangeChannel(schema: string): string {
  return `order_changes_${schema}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

interface Watcher {
  /** A change arrived while nobody was waiting: the next `changed()` returns at once. */
  pending: boolean;
  wake?: () => void;
}

/**
 * LISTENs on one connection per instance and wakes local waiters of the notified order. Waiters
 * also re-read on a timer, so a lost connection delays an answer but never loses it.
 */
export class PgOrderChangeFeed implements OrderChangeFeed {
  private client?: pg.Client;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly channel: string;

  constructor(
    private readonly database: DatabaseLocation,
    private readonly logger: Logger,
  ) {
    this.channel = orderChangeChannel(database.schema);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const set of this.watchers.values()) for (const w of set) w.wake?.();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  watch(orderId: string): OrderWatch {
    const watcher: Watcher = { pending: false };
    const set = this.watchers.get(orderId) ?? new Set<Watcher>();
    set.add(watcher);
    this.watchers.set(orderId, set);
    return {
      changed: (timeoutMs) =>
        new Promise<void>((resolve) => {
          if (watcher.pending) {
            watcher.pending = false;
            return resolve();
          }
          const done = () => {
            clearTimeout(timer);
            watcher.wake = undefined;
            watcher.pending = false;
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          watcher.wake = done;
        }),
      close: () => {
        watcher.wake?.();
        set.delete(watcher);
        if (set.size === 0 && this.watchers.get(orderId) === set) this.watchers.delete(orderId);
      },
    };
  }

  private notify(orderId: string): void {
    for (const watcher of this.watchers.get(orderId) ?? []) {
      if (watcher.wake) watcher.wake();
      else watcher.pending = true;
    }
  }

  private async connect(): Promise<void> {
    const { schema: _schema, ...connection } = this.database;
    const client = new pg.Client({ ...connection, application_name: `order-changes:${this.database.schema}` });
    client.on("error", (error) => {
      if (this.client !== client) return; // an old or never-established connection
      this.logger.warn({ err: error }, "order change feed connection lost; waiters fall back to polling");
      this.client = undefined;
      this.scheduleReconnect();
    });
    client.on("notification", (message) => {
      if (message.payload) this.notify(message.payload);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      if (this.client === client) this.client = undefined;
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((error) => {
        this.logger.warn({ err: error }, "order change feed could not reconnect; retrying");
        this.scheduleReconnect();
      });
    }, 1_000);
    this.reconnectTimer.unref();
  }
}
