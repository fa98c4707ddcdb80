import { admitPlacement, type SagaBacklog } from "../src/domain/admission.ts";

const limits = { maxHeadAgeMs: 10_000, maxPending: 5_000, staleAfterMs: 5_000 };
const now = 1_000_000;
const backlog = (overrides: Partial<SagaBacklog>): SagaBacklog => ({ pending: 0, headAgeMs: 0, sampledAt: now - 100, ...overrides });

describe("Given the saga's backlog", () => {
  test("When it is short and young, Then placement is admitted", () => {
    expect(admitPlacement(backlog({ pending: 300, headAgeMs: 2_000 }), limits, now)).toEqual({ admitted: true });
  });

  test("When its head has waited longer than the limit, Then placement is refused until it could catch up", () => {
    expect(admitPlacement(backlog({ pending: 300, headAgeMs: 13_500 }), limits, now)).toMatchObject({ admitted: false, retryAfterSeconds: 4 });
  });

  test("When too many orders are pending, however young, Then placement is refused for a second", () => {
    expect(admitPlacement(backlog({ pending: 5_001, headAgeMs: 500 }), limits, now)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
  });

  test("When there is no sample or only a stale one, Then placement is admitted (no refusing blind)", () => {
    expect(admitPlacement(undefined, limits, now)).toEqual({ admitted: true });
    expect(admitPlacement(backlog({ pending: 9_999, headAgeMs: 60_000, sampledAt: now - 6_000 }), limits, now)).toEqual({ admitted: true });
  });
});
