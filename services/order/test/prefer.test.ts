import { parsePreferWait } from "../src/http/prefer.ts";

test.each<[string | undefined, number | undefined]>([
  [undefined, undefined],
  ["", undefined],
  ["respond-async", undefined],
  ["wait=0", 0],
  ["wait=5", 5],
  ["wait=10", 10],
  ["WAIT=3", 3],
  [" wait = 4 ", 4],
  ['wait="6"', 6],
  ["respond-async, wait=7", 7],
  ["wait=2; foo=bar", 2],
  ["return=minimal, wait=1, wait=9", 1], // RFC 7240: only the first instance counts
  ["handling=lenient,wait=8", 8],
])("Prefer %p → wait %p", (header, expected) => {
  expect(parsePreferWait(header)).toEqual({ ok: true, waitSeconds: expected });
});

test.each([["wait=11"], ["wait=100"], ["wait=-1"], ["wait=1.5"], ["wait=soon"], ["wait="], ["wait"], ["wait=1e1"], ["wait=99999999999"]])(
  "Prefer %p is refused",
  (header) => {
    const parsed = parsePreferWait(header);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/wait must be/);
  },
);
