/**
 * How often a header appears as sent. Node folds some duplicates and keeps only the first of
 * others (Authorization among them), so the parsed headers cannot tell: a second Authorization
 * would be invisible to the check and possibly visible to something behind it.
 */
export function timesSent(rawHeaders: string[], lowerCaseName: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) count++;
  }
  return count;
}
