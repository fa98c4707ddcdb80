import { currentTrace, runWithTrace, toTraceparent, traceFromTraceparent, useActiveSpanAsTrace, type TraceContext } from "../src/index.ts";

const OWN: TraceContext = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" };
const ACTIVE_SPAN: TraceContext = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
let active: TraceContext | undefined;
useActiveSpanAsTrace(() => active);
afterEach(() => (active = undefined));

test("while OpenTelemetry has a span active, it is the trace: for the logs, the ids handed on and a continued request", () => {
  active = ACTIVE_SPAN;
  runWithTrace(OWN, () => {
    expect(currentTrace()).toEqual(ACTIVE_SPAN);
    expect(toTraceparent()).toBe(`00-${ACTIVE_SPAN.traceId}-${ACTIVE_SPAN.spanId}-01`);
  });
  expect(traceFromTraceparent(`00-${OWN.traceId}-${OWN.spanId}-01`)).toEqual(ACTIVE_SPAN);
});

test("with no span active, the own context is used as before", () => {
  runWithTrace(OWN, () => expect(currentTrace()).toEqual(OWN));
  expect(traceFromTraceparent(`00-${OWN.traceId}-${OWN.spanId}-01`).traceId).toBe(OWN.traceId);
});
