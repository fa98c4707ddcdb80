// The group committer alone: batching, ordering, failure propagation, idleness.
import { GroupCommitter } from "../src/group-commit.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("requests arriving together share one flush and get their own results in order", async () => {
  const batches: number[][] = [];
  const committer = new GroupCommitter<number, string>(
    async (_key, items) => {
      batches.push(items);
      return items.map((i) => `done-${i}`);
    },
    { maxWaitMs: 5, maxBatchSize: 100 },
  );
  const results = await Promise.all([1, 2, 3, 4].map((i) => committer.submit("k", i)));
  expect(results).toEqual(["done-1", "done-2", "done-3", "done-4"]);
  expect(batches).toEqual([[1, 2, 3, 4]]);
});

test("what arrives during a flush forms the next batch; one flush per key at a time", async () => {
  const batches: number[][] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const committer = new GroupCommitter<number, number>(
    async (_key, items) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      batches.push(items);
      await sleep(20);
      concurrent--;
      return items;
    },
    { maxWaitMs: 1, maxBatchSize: 1000 },
  );
  const first = committer.submit("k", 1);
  await sleep(5); // the first flush is running
  const rest = [2, 3, 4].map((i) => committer.submit("k", i));
  expect(await Promise.all([first, ...rest])).toEqual([1, 2, 3, 4]);
  expect(batches).toEqual([[1], [2, 3, 4]]);
  expect(maxConcurrent).toBe(1);
});

test("batches are cut at maxBatchSize and keys are flushed independently", async () => {
  const batches: [string, number][] = [];
  const committer = new GroupCommitter<number, number>(
    async (key, items) => {
      batches.push([key, items.length]);
      return items;
    },
    { maxWaitMs: 2, maxBatchSize: 3 },
  );
  await Promise.all([...Array.from({ length: 7 }, (_, i) => committer.submit("a", i)), committer.submit("b", 99)]);
  expect(batches.filter(([k]) => k === "a").map(([, n]) => n)).toEqual([3, 3, 1]);
  expect(batches.filter(([k]) => k === "b")).toEqual([["b", 1]]);
});

test("a failed flush rejects every request of its batch, and later batches still run", async () => {
  let calls = 0;
  const committer = new GroupCommitter<number, number>(
    async (_key, items) => {
      if (++calls === 1) throw new Error("database down");
      return items;
    },
    { maxWaitMs: 1, maxBatchSize: 10 },
  );
  const failing = await Promise.allSettled([committer.submit("k", 1), committer.submit("k", 2)]);
  expect(failing.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  expect(await committer.submit("k", 3)).toBe(3);
});

test("whenIdle waits for queued and in-flight work of the key", async () => {
  const committer = new GroupCommitter<number, number>(
    async (_key, items) => {
      await sleep(30);
      return items;
    },
    { maxWaitMs: 1, maxBatchSize: 10 },
  );
  let answered = false;
  void committer.submit("k", 1).then(() => (answered = true));
  expect(committer.inFlight).toBe(1);
  await committer.whenIdle("k");
  expect(answered).toBe(true);
  expect(committer.inFlight).toBe(0);
  await committer.whenIdle("never-used");
});
