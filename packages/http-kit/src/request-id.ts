/** What a client may choose as its request id: short, and nothing a log line or header could trip over. */
const PLAIN_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The request id to echo, forward and log: the client's `x-request-id` when it is one short plain
 * value, otherwise the trace id. The header is attacker-controlled and ends up in every log line of
 * the request, so anything long, repeated or unusual is replaced rather than cleaned.
 */
export function requestIdFrom(header: string | string[] | undefined, traceId: string): string {
  return typeof header === "string" && PLAIN_REQUEST_ID.test(header) ? header : traceId;
}
