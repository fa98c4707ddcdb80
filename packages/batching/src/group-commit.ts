/**
 * Group commit: requests for the same key that arrive close together are written by one flush
 * (one transaction, one multi-row INSERT), and every request is answered once that flush is
 * durable. At most one flush per key is in flight; what arrives meanwhile forms the next batch,
 * so batches grow with load by themselves and a quiet key waits at most `maxWaitMs`.
 */
export interface GroupCommitOptions {
  /** How long the first request of a batch waits for company when no flush is in flight. */
  maxWaitMs: number;
  maxBatchSize: number;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

interface KeyState<T, R> {
  queue: Pending<T, R>[];
  flushing: Promise<void> | null;
  timer: NodeJS.Timeout | null;
  idle: (() => void)[];
}

export class GroupCommitter<T, R> {
  private readonly keys = new Map<string, KeyState<T, R>>();

  constructor(
    /** Writes one batch; returns one result per item, in order. A throw fails the whole batch. */
    private readonly flush: (key: string, items: T[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(key: string, item: T): Promise<R> {
    let state = this.keys.get(key);
    if (!state) {
      state = { queue: [], flushing: null, timer: null, idle: [] };
      this.keys.set(key, state);
    }
    const promise = new Promise<R>((resolve, reject) => state.queue.push({ item, resolve, reject }));
    if (!state.flushing) {
      if (state.queue.length >= this.options.maxBatchSize) this.flushNow(key, state);
      else if (!state.timer) state.timer = setTimeout(() => this.flushNow(key, state), this.options.maxWaitMs);
    }
    return promise;
  }

  /** Resolves when nothing is queued or being written for `key` (e.g. before reading its state back). */
  whenIdle(key: string): Promise<void> {
    const state = this.keys.get(key);
    if (!state || (!state.flushing && state.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => state.idle.push(resolve));
  }

  whenAllIdle(): Promise<void> {
    return Promise.all([...this.keys.keys()].map((key) => this.whenIdle(key))).then(() => undefined);
  }

  /** Number of requests queued or in flight, over all keys. */
  get inFlight(): number {
    let n = 0;
    for (const state of this.keys.values()) n += state.queue.length + (state.flushing ? 1 : 0);
    return n;
  }

  private flushNow(key: string, state: KeyState<T, R>): void {
    if (state.timer) {
      clearTimeout(state.timer);
      state.timer = null;
    }
    if (state.flushing || state.queue.length === 0) return;
    const batch = state.queue.splice(0, this.options.maxBatchSize);
    state.flushing = this.runBatch(key, batch).finally(() => {
      state.flushing = null;
      if (state.queue.length > 0) {
        // These waited for the previous flush already: write them at once.
        this.flushNow(key, state);
      } else {
        this.keys.delete(key);
        for (const notify of state.idle.splice(0)) notify();
      }
    });
  }

  private async runBatch(key: string, batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.flush(
        key,
        batch.map((p) => p.item),
      );
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
