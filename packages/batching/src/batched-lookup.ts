export interface BatchedLookupOptions {
  /** Most keys one query asks for. */
  maxBatchSize: number;
  /** Most queries of this lookup in flight at once; what arrives meanwhile waits and goes together into the next. */
  maxInFlight: number;
}

interface Waiting<K, V> {
  key: K;
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Point reads by key, answered in batches: the lookups that arrive in the same turn of the event
 * loop, or while `maxInFlight` queries are running, are answered by one `load` of their distinct
 * keys. Under load that turns many round trips (each a system call on both sides) into one; when
 * quiet, a lookup waits only for the end of the current turn.
 *
 * Nothing is cached: every lookup is answered by a query that started after the lookup was made,
 * so it sees every write that was complete when it was asked.
 */
export function batchedLookup<K, V>(load: (keys: K[]) => Promise<ReadonlyMap<K, V>>, options: BatchedLookupOptions): (key: K) => Promise<V | undefined> {
  let waiting: Waiting<K, V>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    while (waiting.length > 0 && inFlight < options.maxInFlight) {
      const batch: Waiting<K, V>[] = [];
      const keys = new Set<K>();
      let taken = 0;
      for (; taken < waiting.length; taken++) {
        const next = waiting[taken]!;
        if (!keys.has(next.key) && keys.size === options.maxBatchSize) break;
        keys.add(next.key);
        batch.push(next);
      }
      waiting = waiting.slice(taken);
      inFlight++;
      load([...keys])
        .then(
          (found) => {
            for (const lookup of batch) lookup.resolve(found.get(lookup.key));
          },
          (error: unknown) => {
            for (const lookup of batch) lookup.reject(error);
          },
        )
        .finally(() => {
          inFlight--;
          flush();
        });
    }
  };

  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      if (!scheduled && inFlight < options.maxInFlight) {
        scheduled = true;
        // After the I/O phase: every request read in this turn joins the same query.
        setImmediate(flush);
      }
    });
}
