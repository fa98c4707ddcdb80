// Inputs found by fuzzing that used to be 500s: a campaign's dates and names that are not what they
// claim are 400s naming the field, and no campaign is stored.
import { campaignBody, startCouponFixture, type CouponFixture } from "./support.ts";

/** A Redis DB of its own (see support.ts: each test file flushes only its own). */
const REDIS_DB = 5;

let f: CouponFixture;

beforeAll(async () => {
  f = await startCouponFixture("coupon-hostile", REDIS_DB);
});
afterAll(async () => {
  await f?.stop();
});

const countCampaigns = async () => Number((await f.db.query<{ n: string }>("SELECT count(*)::text AS n FROM coupons"))[0]!.n);

function expectValidationProblem(response: { status: number; contentType: string; body: any }, fields: string[]) {
  expect(response.status).toBe(400);
  expect(response.contentType).toContain("application/problem+json");
  expect(response.body).toMatchObject({
    status: 400,
    code: "VALIDATION_FAILED",
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    traceId: expect.any(String),
  });
  expect((response.body.errors as { field: string }[]).map((e) => e.field)).toEqual(fields);
}

test.each([
  "tomorrow",
  "",
  "2030-01-01", // a date without a time
  "2030-02-30T00:00:00Z", // not a day of the calendar
  "2030-01-01T25:00:00Z",
  "2030-01-01T00:00:00", // no time zone
  "0000-01-01T00:00:00Z", // before what the database and clients represent sensibly
  "2030-01-01T00:00:00Z\u0000",
])("issueEndsAt %p is a 400 naming it, and no campaign is stored", async (issueEndsAt) => {
  const before = await countCampaigns();
  expectValidationProblem(await f.client.post("/api/v1/admin/coupons", campaignBody({ issueEndsAt })), ["body.issueEndsAt"]);
  expectValidationProblem(await f.client.post("/api/v1/admin/coupons", campaignBody({ issueStartsAt: issueEndsAt })), ["body.issueStartsAt"]);
  expect(await countCampaigns()).toBe(before);
});

test.each([[42], [null], [{ at: "2030-01-01T00:00:00Z" }], [["2030-01-01T00:00:00Z"]]])(
  "issueEndsAt of the wrong type (%p) is a 400 naming it",
  async (issueEndsAt) => {
    const before = await countCampaigns();
    // Both fields are reported; the rules across them (end after start) wait until both parsed.
    const response = await f.client.post("/api/v1/admin/coupons", campaignBody({ issueStartsAt: "yesterday", issueEndsAt }));
    expectValidationProblem(response, ["body.issueStartsAt", "body.issueEndsAt"]);
    expect(await countCampaigns()).toBe(before);
  },
);

test.each([
  ["NUL", "a\u0000b"],
  ["a lone surrogate", "\ud800"],
])("a campaign named with %s is a 400 naming the name", async (_label, name) => {
  const before = await countCampaigns();
  expectValidationProblem(await f.client.post("/api/v1/admin/coupons", campaignBody({ name })), ["body.name"]);
  expect(await countCampaigns()).toBe(before);
});

test("a campaign with ISO 8601 dates in any time zone is stored at the instants given", async () => {
  const response = await f.client.post(
    "/api/v1/admin/coupons",
    campaignBody({ issueStartsAt: "2030-01-01T09:00:00+09:00", issueEndsAt: "2030-01-02T00:00:00.5Z" }),
  );
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ issueStartsAt: "2030-01-01T00:00:00.000Z", issueEndsAt: "2030-01-02T00:00:00.500Z" });
});
