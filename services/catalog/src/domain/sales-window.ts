/**
 * Sales days are calendar days in Asia/Seoul. Korea has kept UTC+9 all year since 1988 (no DST),
 * so a fixed offset is exact and needs no time-zone database.
 */
const SEOUL_OFFSET_MS = 9 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Days counted by the top sellers: today in Seoul and the two days before. */
export const TOP_SELLERS_WINDOW_DAYS = 3;

/** The Seoul calendar day (`YYYY-MM-DD`) an instant falls on. */
export function seoulDayOf(instant: Date): string {
  if (Number.isNaN(instant.getTime())) throw new RangeError("invalid instant");
  return new Date(instant.getTime() + SEOUL_OFFSET_MS).toISOString().slice(0, 10);
}

/** Midnight at the start of a Seoul day, as an instant. */
export function startOfSeoulDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - SEOUL_OFFSET_MS);
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export interface SalesWindow {
  /** Oldest first; the last one is today in Seoul. */
  days: string[];
  /** 00:00 Seoul time of the first day (inclusive). */
  from: Date;
  /** 00:00 Seoul time of tomorrow (exclusive). */
  to: Date;
}

/**
 * The top-sellers window at `now`: the last three whole Seoul calendar days including today, i.e.
 * [00:00 KST two days ago, 00:00 KST tomorrow). An order counts on the Seoul day of its completedAt.
 */
export function topSellersWindow(now: Date): SalesWindow {
  const today = seoulDayOf(now);
  const days = Array.from({ length: TOP_SELLERS_WINDOW_DAYS }, (_, i) => addDays(today, i - (TOP_SELLERS_WINDOW_DAYS - 1)));
  return { days, from: startOfSeoulDay(days[0]!), to: startOfSeoulDay(addDays(today, 1)) };
}
