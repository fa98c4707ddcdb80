import { createHash } from "node:crypto";
import { DomainError, IdempotencyKeyReusedError } from "@shop/errors";

/**
 * An Idempotency-Key as its store found it on one attempt to take it for a request. Each service
 * keeps its keys in its own table and SQL (src/data) and reports its rows as one of these.
 *
 * A store holds a claim in one of two ways. Inside the transaction that also stores the answer
 * (wallet charges): a concurrent request with the key waits on the row lock and then sees the key
 * completed, never in progress. Or committed on its own before the work starts (order placement,
 * whose work calls other services): a concurrent request sees it in progress, and a claim left
 * unanswered too long is taken over by the next request with the same body.
 */
export type IdempotencyKeyState<Answer> =
  /** The key was free: this request holds it now. */
  | { state: "claimed" }
  /** An earlier request with this key and body stopped without answering: this request holds the key now and redoes its work. */
  | { state: "taken-over" }
  /** Another request holds the key and has not answered yet. */
  | { state: "in-progress"; requestHash: string }
  /** A request with the key was answered; `answer` is what it answered. */
  | { state: "completed"; requestHash: string; answer: Answer };

/** What becomes of a request, given the state of its key. */
export type IdempotencyDecision<Answer> =
  /** Do the work and store its answer under the key. */
  | { next: "proceed"; takenOver: boolean }
  /** Answer what the first request answered; change nothing. */
  | { next: "replay"; answer: Answer }
  /** The key belongs to a different request (another body): 422 IDEMPOTENCY_KEY_REUSED. */
  | { next: "reject-reused-key" }
  /** The same request is running elsewhere: try to take the key again shortly. */
  | { next: "wait" }
  /** The same request is still running elsewhere and waiting is over: 409 REQUEST_IN_PROGRESS. */
  | { next: "give-up" };

/** The rule, once: a key is used by one request (one body) only; its answer is replayed, its work never done twice at once. */
export function decideOnKey<Answer>(key: IdempotencyKeyState<Answer>, requestHash: string, mayWait: boolean): IdempotencyDecision<Answer> {
  switch (key.state) {
    case "claimed":
      return { next: "proceed", takenOver: false };
    case "taken-over":
      return { next: "proceed", takenOver: true };
    case "completed":
      return key.requestHash === requestHash ? { next: "replay", answer: key.answer } : { next: "reject-reused-key" };
    case "in-progress":
      if (key.requestHash !== requestHash) return { next: "reject-reused-key" };
      return mayWait ? { next: "wait" } : { next: "give-up" };
  }
}

/**
 * What identifies a request under its key: the SHA-256 of the JSON of its canonical form (the
 * caller puts lists in a fixed order). Stored with the key, so the form must not change.
 */
export function requestFingerprint(canonicalRequest: unknown): string {
  return createHash("sha256").update(JSON.stringify(canonicalRequest)).digest("hex");
}

/** Another request with this Idempotency-Key is still being processed; its answer will be replayed once it is stored. */
export class RequestInProgressError extends DomainError {
  constructor() {
    super("REQUEST_IN_PROGRESS", "a request with this Idempotency-Key is still being processed; retry shortly");
  }
}

export interface TakeKeyOptions<Key> {
  requestHash: string;
  /** One attempt at the store to take the key; called again while another request holds it. */
  attempt: () => Promise<Key>;
  /** How long to wait for another request holding the key before giving up (0: give up at once). */
  waitMs: number;
  /** Pause between attempts while waiting. */
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The key as taken: held by this request (its state, with whatever the store reported along), or answered before. */
export type KeyTaken<Key extends IdempotencyKeyState<unknown>> =
  { next: "proceed"; key: Extract<Key, { state: "claimed" | "taken-over" }> } | { next: "replay"; key: Extract<Key, { state: "completed" }> };

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Takes an Idempotency-Key for a request: returns it held or answered; throws
 * IdempotencyKeyReusedError for another body, RequestInProgressError when the request holding it
 * has not answered within `waitMs`.
 */
export async function takeIdempotencyKey<Key extends IdempotencyKeyState<unknown>>(options: TakeKeyOptions<Key>): Promise<KeyTaken<Key>> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? pause;
  const giveUpAt = now() + options.waitMs;
  for (;;) {
    const key = await options.attempt();
    const decision = decideOnKey(key, options.requestHash, now() < giveUpAt);
    switch (decision.next) {
      case "proceed":
        return { next: "proceed", key: key as Extract<Key, { state: "claimed" | "taken-over" }> };
      case "replay":
        return { next: "replay", key: key as Extract<Key, { state: "completed" }> };
      case "reject-reused-key":
        throw new IdempotencyKeyReusedError();
      case "give-up":
        throw new RequestInProgressError();
      case "wait":
        await sleep(options.pollMs ?? 50);
    }
  }
}
