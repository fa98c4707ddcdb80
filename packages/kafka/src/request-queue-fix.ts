// kafkajs 2.2.4 keeps one request queue per broker connection. After its first answer the queue
// re-arms a "check the pending requests" timer whether or not any request is pending, with a
// negative delay that Node turns into 1 ms (kafkajs issues #1556, #1704, #1751): every connection
// wakes its process a thousand times a second for nothing, idle or busy. A service holds several
// connections, so this was 4-5 % of a core per idle service and a share of every busy one.
//
// The replacement keeps what the timer is for: when requests wait (the broker asked the client to
// throttle, or the in-flight limit is reached) they are checked when the throttle ends, or every
// 10 ms as kafkajs does. With nothing pending there is nothing to check: a request pushed later
// schedules the check itself, and every answer or timeout checks the queue anyway.
// @ts-expect-error kafkajs ships no types for its internals
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** kafkajs' own interval for re-checking queued requests. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const queue = (RequestQueue as { prototype: RequestQueueInternals }).prototype;
if (typeof queue.scheduleCheckPendingRequests !== "function" || typeof queue.checkPendingRequests !== "function") {
  throw new Error("kafkajs' RequestQueue changed: review packages/kafka/src/request-queue-fix.ts");
}

queue.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals) {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
};
