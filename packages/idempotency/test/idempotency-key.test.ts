import { IdempotencyKeyReusedError } from "@shop/errors";
import { decideOnKey, requestFingerprint, RequestInProgressError, takeIdempotencyKey, type IdempotencyKeyState } from "../src/index.ts";

// Given the state a store reports for a key, when a request with a body decides, then this is what happens.

type Answer = { chargeId: string };
const THIS = requestFingerprint({ amount: 1000 });
const OTHER = requestFingerprint({ amount: 2000 });
const answer: Answer = { chargeId: "42" };

describe("deciding on a key", () => {
  test.each([
    ["free, so this request claimed it", { state: "claimed" } as const, { next: "proceed", takenOver: false }],
    ["left unanswered by a request that stopped, so this one took it over", { state: "taken-over" } as const, { next: "proceed", takenOver: true }],
  ])("given a key %s, then the work proceeds", (_given, key: IdempotencyKeyState<Answer>, expected) => {
    expect(decideOnKey(key, THIS, true)).toEqual(expected);
    expect(decideOnKey(key, THIS, false)).toEqual(expected);
  });

  test("given a key completed by the same request, then its stored answer is replayed", () => {
    expect(decideOnKey<Answer>({ state: "completed", requestHash: THIS, answer }, THIS, true)).toEqual({ next: "replay", answer });
  });

  test("given a key completed by another body, then the request is rejected as a reused key", () => {
    expect(decideOnKey<Answer>({ state: "completed", requestHash: OTHER, answer }, THIS, true)).toEqual({ next: "reject-reused-key" });
  });

  test("given a key in progress for another body, then the request is rejected at once, waiting or not", () => {
    expect(decideOnKey<Answer>({ state: "in-progress", requestHash: OTHER }, THIS, true)).toEqual({ next: "reject-reused-key" });
    expect(decideOnKey<Answer>({ state: "in-progress", requestHash: OTHER }, THIS, false)).toEqual({ next: "reject-reused-key" });
  });

  test("given a key in progress for the same body, then the request waits while it may, and gives up after", () => {
    expect(decideOnKey<Answer>({ state: "in-progress", requestHash: THIS }, THIS, true)).toEqual({ next: "wait" });
    expect(decideOnKey<Answer>({ state: "in-progress", requestHash: THIS }, THIS, false)).toEqual({ next: "give-up" });
  });
});

describe("the request fingerprint", () => {
  test("is the SHA-256 of the request's JSON, the form stored keys were written with", () => {
    expect(requestFingerprint({ amount: 1000 })).toBe("612612d208fb618eb2b007d2a7f8d7a1cfb511532389298f1cc33322c3094bcc");
    expect(requestFingerprint({ amount: 1000 })).not.toBe(requestFingerprint({ amount: 1001 }));
  });
});

describe("taking a key", () => {
  /** A store that reports the given states in turn, and a clock that moves only when the taker sleeps. */
  function scripted(states: IdempotencyKeyState<Answer>[]) {
    let time = 0;
    const attempts: number[] = [];
    return {
      attempts,
      options: {
        requestHash: THIS,
        attempt: async () => {
          attempts.push(time);
          return states[Math.min(attempts.length - 1, states.length - 1)]!;
        },
        now: () => time,
        sleep: async (ms: number) => {
          time += ms;
        },
        pollMs: 50,
      },
    };
  }

  test("given a free key, when taken, then it is held after one attempt", async () => {
    const store = scripted([{ state: "claimed" }]);
    await expect(takeIdempotencyKey({ ...store.options, waitMs: 0 })).resolves.toEqual({ next: "proceed", key: { state: "claimed" } });
    expect(store.attempts).toEqual([0]);
  });

  test("given a key the store reports with more (an order id), when taken over, then that comes back with it", async () => {
    const store = { attempt: async () => ({ state: "taken-over" as const, orderId: "o-1" }) };
    await expect(takeIdempotencyKey({ requestHash: THIS, attempt: store.attempt, waitMs: 0 })).resolves.toEqual({
      next: "proceed",
      key: { state: "taken-over", orderId: "o-1" },
    });
  });

  test("given a key in progress that completes meanwhile, when taken with time to wait, then the answer is replayed", async () => {
    const store = scripted([
      { state: "in-progress", requestHash: THIS },
      { state: "in-progress", requestHash: THIS },
      { state: "completed", requestHash: THIS, answer },
    ]);
    await expect(takeIdempotencyKey({ ...store.options, waitMs: 1_000 })).resolves.toEqual({
      next: "replay",
      key: { state: "completed", requestHash: THIS, answer },
    });
    expect(store.attempts).toEqual([0, 50, 100]);
  });

  test("given a key that stays in progress, when the wait is over, then RequestInProgressError (409)", async () => {
    const store = scripted([{ state: "in-progress", requestHash: THIS }]);
    await expect(takeIdempotencyKey({ ...store.options, waitMs: 120 })).rejects.toBeInstanceOf(RequestInProgressError);
    expect(store.attempts).toEqual([0, 50, 100, 150]);
  });

  test("given a key in progress, when taken without waiting, then RequestInProgressError at once", async () => {
    const store = scripted([{ state: "in-progress", requestHash: THIS }]);
    await expect(takeIdempotencyKey({ ...store.options, waitMs: 0 })).rejects.toMatchObject({ code: "REQUEST_IN_PROGRESS" });
    expect(store.attempts).toEqual([0]);
  });

  test("given a key used by another body, when taken, then IdempotencyKeyReusedError (422) without waiting", async () => {
    const store = scripted([{ state: "in-progress", requestHash: OTHER }]);
    await expect(takeIdempotencyKey({ ...store.options, waitMs: 1_000 })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(store.attempts).toEqual([0]);
  });
});
