// kafkajs' request queue, as @shop/kafka leaves it (see src/request-queue-fix.ts): it must not wake
// its process while nothing is pending, and must still send what waits behind the in-flight limit
// or a broker's throttle. Driven directly, without a broker: a "sent" request is a recorded call.
import { afterEach, describe, expect, it } from "@jest/globals";
import "../src/client.ts";
// @ts-expect-error kafkajs ships no types for its internals
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

interface Queue {
  push(request: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests: (this: Queue) => void;
  destroy(): void;
  pending: unknown[];
}
interface Entry {
  correlationId: number;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const queues: Queue[] = [];
const newQueue = (maxInFlightRequests: number | null = null): Queue => {
  const queue = new (RequestQueue as new (options: object) => Queue)({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "b:9092",
    logger: quiet,
  });
  queues.push(queue);
  return queue;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pushes request `id`; `sent` records that the queue sent it. */
const push = (queue: Queue, id: number, sent: number[]) =>
  queue.push({
    entry: { correlationId: id, apiKey: 1, apiName: "Fetch", apiVersion: 11, resolve: () => {}, reject: () => {} },
    expectResponse: true,
    sendRequest: () => sent.push(id),
  });
const answer = (queue: Queue, id: number) => queue.fulfillRequest({ correlationId: id, payload: Buffer.alloc(0), size: 0 });

/** How often `checkPendingRequests` runs on any queue during `ms`. */
async function checksDuring(ms: number): Promise<number> {
  const prototype = (RequestQueue as { prototype: Queue }).prototype;
  const original = prototype.checkPendingRequests;
  let calls = 0;
  prototype.checkPendingRequests = function (this: Queue) {
    calls++;
    return original.call(this);
  };
  try {
    await sleep(ms);
  } finally {
    prototype.checkPendingRequests = original;
  }
  return calls;
}

afterEach(() => {
  for (const queue of queues.splice(0)) queue.destroy();
});

describe("kafkajs' request queue", () => {
  it("does not wake up while no request is pending (it did every millisecond after its first answer)", async () => {
    const queue = newQueue();
    const sent: number[] = [];
    push(queue, 1, sent);
    answer(queue, 1);
    expect(sent).toEqual([1]);
    expect(await checksDuring(200)).toBe(0);
  });

  it("sends a request that waited behind the in-flight limit once an answer frees a place", async () => {
    const queue = newQueue(1);
    const sent: number[] = [];
    push(queue, 1, sent);
    push(queue, 2, sent);
    expect(sent).toEqual([1]);
    answer(queue, 1);
    expect(sent).toEqual([1, 2]);
    answer(queue, 2);
    expect(queue.pending).toHaveLength(0);
  });

  it("sends what a broker's throttle held back when the throttle ends, on its own", async () => {
    const queue = newQueue();
    const sent: number[] = [];
    queue.maybeThrottle(50);
    push(queue, 1, sent);
    push(queue, 2, sent);
    expect(sent).toEqual([]);
    await sleep(120);
    expect(sent).toEqual([1, 2]);
    answer(queue, 1);
    answer(queue, 2);
    expect(await checksDuring(100)).toBe(0);
  });
});
