import { seoulDayOf, startOfSeoulDay, topSellersWindow } from "../src/domain/sales-window.ts";

describe("seoulDayOf", () => {
  test.each([
    ["2026-11-22T14:59:59.999Z", "2026-11-22"], // 23:59:59.999 in Seoul
    ["2026-11-22T15:00:00.000Z", "2026-11-23"], // midnight in Seoul
    ["2026-11-23T00:00:00.000Z", "2026-11-23"], // 09:00 in Seoul
    ["2026-12-31T15:00:00.000Z", "2027-01-01"], // new year in Seoul, still the old year in UTC
    ["2028-02-28T15:30:00.000Z", "2028-02-29"], // leap day
    ["2026-03-08T15:00:00.000Z", "2026-03-09"], // a DST change elsewhere moves nothing here
  ])("%s falls on %s in Seoul", (instant, day) => {
    expect(seoulDayOf(new Date(instant))).toBe(day);
  });

  test("accepts the offsets an event may carry", () => {
    expect(seoulDayOf(new Date("2026-11-23T00:30:00+09:00"))).toBe("2026-11-23");
    expect(seoulDayOf(new Date("2026-11-22T23:59:00+09:00"))).toBe("2026-11-22");
  });

  test("refuses an invalid instant", () => {
    expect(() => seoulDayOf(new Date("not a date"))).toThrow(RangeError);
  });
});

test("a Seoul day starts at 15:00 UTC the day before", () => {
  expect(startOfSeoulDay("2026-11-23").toISOString()).toBe("2026-11-22T15:00:00.000Z");
  expect(startOfSeoulDay("2027-01-01").toISOString()).toBe("2026-12-31T15:00:00.000Z");
});

describe("topSellersWindow", () => {
  test("is today in Seoul and the two days before, from midnight to tomorrow's midnight", () => {
    expect(topSellersWindow(new Date("2026-11-23T03:00:00.000Z"))).toEqual({
      days: ["2026-11-21", "2026-11-22", "2026-11-23"],
      from: new Date("2026-11-20T15:00:00.000Z"),
      to: new Date("2026-11-23T15:00:00.000Z"),
    });
  });

  test("moves at midnight Seoul time, not UTC", () => {
    expect(topSellersWindow(new Date("2026-11-23T14:59:59.999Z")).days).toEqual(["2026-11-21", "2026-11-22", "2026-11-23"]);
    expect(topSellersWindow(new Date("2026-11-23T15:00:00.000Z")).days).toEqual(["2026-11-22", "2026-11-23", "2026-11-24"]);
  });

  test("crosses month and year ends", () => {
    expect(topSellersWindow(new Date("2027-01-01T00:00:00.000Z")).days).toEqual(["2026-12-30", "2026-12-31", "2027-01-01"]);
    expect(topSellersWindow(new Date("2028-03-01T01:00:00.000Z")).days).toEqual(["2028-02-28", "2028-02-29", "2028-03-01"]);
  });

  test("every instant of the window, and only those, falls on one of its days", () => {
    const window = topSellersWindow(new Date("2026-11-23T03:00:00.000Z"));
    const inWindow = (instant: Date) => window.days.includes(seoulDayOf(instant));
    expect(inWindow(window.from)).toBe(true);
    expect(inWindow(new Date(window.from.getTime() - 1))).toBe(false);
    expect(inWindow(new Date(window.to.getTime() - 1))).toBe(true);
    expect(inWindow(window.to)).toBe(false);
  });
});
