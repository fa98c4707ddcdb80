import { runWithTrace, toTraceparent, traceFromTraceparent } from "../src/index.ts";

test("a valid traceparent continues its trace with a new span", () => {
  const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const trace = traceFromTraceparent(incoming);
  expect(trace.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
  expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
  expect(trace.spanId).not.toBe("b7ad6b7169203331");
});

test.each([undefined, "", "garbage", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-XYZ7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])(
  "a missing or malformed traceparent (%p) starts a new trace",
  (header) => {
    const trace = traceFromTraceparent(header);
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(toTraceparent(trace)).toBe(`00-${trace.traceId}-${trace.spanId}-01`);
  },
);

test("ids are unique across many requests (the pooled random buffer refills)", () => {
  const ids = new Set(Array.from({ length: 2_000 }, () => traceFromTraceparent(undefined).traceId));
  expect(ids.size).toBe(2_000);
});

test("the current trace is the one of the work in progress", async () => {
  const trace = traceFromTraceparent(undefined);
  const seen = await runWithTrace(trace, async () => {
    await new Promise((r) => setTimeout(r, 1));
    return toTraceparent();
  });
  expect(seen).toBe(`00-${trace.traceId}-${trace.spanId}-01`);
});
