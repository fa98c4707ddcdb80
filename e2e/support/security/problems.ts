// What every error answer must look like (contract, "Errors"): RFC 9457 problem+json with a stable
// code and a trace id, and nothing of the implementation behind it.
import { headerOf, jsonOf, type Answer } from "./http.ts";

const REQUIRED_FIELDS = ["type", "title", "status", "detail", "code", "traceId"] as const;

/** Stack frames, file paths, driver and SQL error texts: what an unhandled error would leak. */
const LEAKS = [
  /\n\s+at\s/,
  /\bat (?:async )?[\w$.<>[\]]+ \([^)]*:\d+:\d+\)/,
  /node_modules|\.ts:\d+:\d+|\.js:\d+:\d+/,
  /PrismaClient|prisma\.\w+\.|pg-pool|duplicate key value|violates \w+ constraint|invalid byte sequence|syntax error at or near|unterminated quoted/i,
];

/**
 * What is wrong with `answer` as a problem answer (empty when nothing). With `headRequest` the
 * body is absent by definition, so only the headers are checked.
 */
export function problemIssues(answer: Answer, options: { headRequest?: boolean } = {}): string[] {
  const issues: string[] = [];
  const contentType = headerOf(answer, "content-type") ?? "";
  if (!/^application\/problem\+json\b/i.test(contentType)) issues.push(`content-type is "${contentType}", not application/problem+json`);
  if (options.headRequest) return issues;
  const body = jsonOf(answer);
  if (body === null || typeof body !== "object" || Array.isArray(body)) return [...issues, "the body is not a JSON object"];
  for (const field of REQUIRED_FIELDS) if (body[field] === undefined || body[field] === null || body[field] === "") issues.push(`no "${field}"`);
  if (body.status !== undefined && body.status !== answer.status) issues.push(`"status" is ${JSON.stringify(body.status)} but the answer is ${answer.status}`);
  if (typeof body.code === "string" && !/^[A-Z][A-Z0-9_]*$/.test(body.code)) issues.push(`"code" ${JSON.stringify(body.code)} is not a machine-readable code`);
  for (const leak of LEAKS) if (leak.test(answer.text)) issues.push(`the body leaks internals (${leak.source})`);
  return issues;
}

/** The parts of an error answer a test compares in one `toEqual`, so a failure shows all of them at once. */
export function problemSummary(answer: Answer, options: { headRequest?: boolean } = {}): { status: number; code: unknown; issues: string[] } {
  return { status: answer.status, code: options.headRequest ? undefined : jsonOf(answer)?.code, issues: problemIssues(answer, options) };
}

/** A short printable form of a request or answer body for failure messages. */
export function preview(value: string | Buffer | undefined, max = 240): string {
  if (value === undefined) return "(none)";
  const text = Buffer.isBuffer(value) ? value.toString("latin1") : value;
  const shown = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return text.length > max ? `${shown} (${text.length} chars)` : shown;
}
