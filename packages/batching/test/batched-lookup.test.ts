import { batchedLookup } from "../src/batched-lookup.ts";

/** A store whose queries are counted and finish only when told to. */
function fakeStore(values: Record<string, number>) {
  const queries: string[][] = [];
  const pending: (() => void)[] = [];
  const load = (keys: string[]) => {
    queries.push(keys);
    return new Promise<Map<string, number>>((resolve) => {
      pending.push(() => resolve(new Map(keys.filter((k) => k in values).map((k) => [k, values[k]!]))));
    });
  };
  const finishAll = () => pending.splice(0).forEach((finish) => finish());
  return { values, queries, load, finishAll };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test("lookups made in the same turn are answered by one query of their distinct keys", async () => {
  const store = fakeStore({ a: 1, b: 2 });
  const lookup = batchedLookup(store.load, { maxBatchSize: 100, maxInFlight: 2 });
  const answers = Promise.all([lookup("a"), lookup("b"), lookup("a"), lookup("missing")]);
  await nextTurn();
  store.finishAll();
  expect(await answers).toEqual([1, 2, 1, undefined]);
  expect(store.queries).toEqual([["a", "b", "missing"]]);
});

test("lookups that arrive while every query slot is busy go together into the next query", async () => {
  const store = fakeStore({ a: 1, b: 2, c: 3 });
  const lookup = batchedLookup(store.load, { maxBatchSize: 100, maxInFlight: 1 });
  const first = lookup("a");
  await nextTurn();
  const later = [lookup("b"), lookup("c")];
  await nextTurn();
  expect(store.queries).toEqual([["a"]]);
  store.finishAll();
  expect(await first).toBe(1);
  await nextTurn();
  expect(store.queries).toEqual([["a"], ["b", "c"]]);
  store.finishAll();
  expect(await Promise.all(later)).toEqual([2, 3]);
});

test("a lookup sees a write completed before it was made (nothing is cached between queries)", async () => {
  const store = fakeStore({ a: 1 });
  const lookup = batchedLookup(store.load, { maxBatchSize: 100, maxInFlight: 2 });
  const before = lookup("a");
  await nextTurn();
  store.finishAll();
  expect(await before).toBe(1);
  store.values.a = 5;
  const after = lookup("a");
  await nextTurn();
  store.finishAll();
  expect(await after).toBe(5);
});

test("a batch never asks for more than maxBatchSize keys", async () => {
  const store = fakeStore({ a: 1, b: 2, c: 3 });
  const lookup = batchedLookup(store.load, { maxBatchSize: 2, maxInFlight: 4 });
  const answers = Promise.all(["a", "b", "a", "c"].map((k) => lookup(k)));
  await nextTurn();
  store.finishAll();
  expect(await answers).toEqual([1, 2, 1, 3]);
  expect(store.queries).toEqual([["a", "b"], ["c"]]);
});

test("a failed query fails only the lookups of its batch", async () => {
  let calls = 0;
  const lookup = batchedLookup(
    async (keys: string[]) => {
      if (calls++ === 0) throw new Error("connection lost");
      return new Map(keys.map((k) => [k, k.length]));
    },
    { maxBatchSize: 100, maxInFlight: 1 },
  );
  const failed = Promise.allSettled([lookup("a"), lookup("bb")]);
  expect((await failed).map((r) => r.status)).toEqual(["rejected", "rejected"]);
  expect(await lookup("ccc")).toBe(3);
});
