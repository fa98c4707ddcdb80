export {
  decideOnKey,
  requestFingerprint,
  takeIdempotencyKey,
  RequestInProgressError,
  type IdempotencyDecision,
  type IdempotencyKeyState,
  type KeyTaken,
  type TakeKeyOptions,
} from "./idempotency-key.ts";
