import type { FieldIssue } from "@shop/errors";

/**
 * The one rule for every string a client sends (path, query, body, declared headers, and object
 * keys): no control characters (C0 U+0000–U+001F, DEL, C1 U+0080–U+009F; no field of this API is
 * multi-line text) and no unpaired UTF-16 surrogates. PostgreSQL refuses NUL and cannot store a lone
 * surrogate, so letting them through turned client mistakes into 500s. Written without `\p{…}` and
 * without the `u` flag, so that the OpenAPI document's `pattern` means the same to every JSON Schema
 * validator, whether it compiles patterns in Unicode mode or not: any character but a control
 * character or a surrogate, or a high surrogate followed by a low one.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is about
export const SAFE_TEXT_PATTERN = /^(?:[^\u0000-\u001F\u007F-\u009F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
export const SAFE_TEXT_MESSAGE = "must not contain control characters or unpaired UTF-16 surrogates";

/** How deep a JSON body may nest; no request of this API needs more than a few levels. */
export const MAX_INPUT_DEPTH = 32;

/** Enough to show the client what is wrong without echoing an arbitrary amount of input back. */
const MAX_ISSUES = 20;

export const isSafeText = (value: string): boolean => SAFE_TEXT_PATTERN.test(value);

/**
 * Issues for every unsafe string in `value` (named `location.path.to.field`), and one for input
 * nested deeper than MAX_INPUT_DEPTH. Walks with its own stack, so no input can exhaust the call stack.
 */
export function unsafeTextIssues(value: unknown, location: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: location, depth: 0 }];
  while (pending.length && issues.length < MAX_ISSUES) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current === "string") {
      if (!isSafeText(current)) issues.push({ field: path, message: SAFE_TEXT_MESSAGE });
      continue;
    }
    if (current === null || typeof current !== "object") continue;
    if (depth >= MAX_INPUT_DEPTH) {
      issues.push({ field: path, message: `is nested more than ${MAX_INPUT_DEPTH} levels deep` });
      continue;
    }
    for (const [key, child] of Object.entries(current)) {
      const childPath = `${path}.${key}`;
      if (!isSafeText(key)) {
        issues.push({ field: `${path}.${JSON.stringify(key).slice(1, -1)}`, message: `has a key that ${SAFE_TEXT_MESSAGE}` });
        continue;
      }
      pending.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return issues;
}
