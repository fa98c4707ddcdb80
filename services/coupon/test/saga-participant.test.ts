import type { DomainEvent, EventPayloads } from "@shop/events";
import type { DecisionContext } from "@shop/saga";
import { build } from "@shop/testing";
import type { Reservation, ReservationStatus } from "../src/domain/model.ts";
import {
  couponSaga,
  ON_ORDER_COMPLETED,
  ON_ORDER_FAILED,
  ON_ORDER_PLACED,
  type CouponHolding,
  type CouponSagaEffect,
  type CouponSagaState,
} from "../src/domain/saga-participant.ts";

// Given a state, when a batch of events is decided (and evolved, as the runner does), then these
// effects and this state. The coupon service answers no event: every batch must publish nothing.
// No database: the participant is pure.

const NOW = new Date("2026-03-04T05:06:07.000Z");
const RESERVED_AT = new Date("2026-03-04T05:00:00.000Z");
const USER = "user-1";

const context = (): DecisionContext => ({ now: NOW, newId: () => "unused" });

function given(options: { reservations?: Reservation[]; coupons?: CouponHolding[] } = {}): CouponSagaState {
  return {
    reservations: new Map((options.reservations ?? []).map((r) => [r.orderId, r])),
    userCoupons: new Map((options.coupons ?? []).map((c) => [c.id, c])),
  };
}

const reservation = (orderId: string, status: ReservationStatus, userCouponId: string | null = "coupon-a"): Reservation => ({
  orderId,
  userCouponId,
  userId: USER,
  status,
  discountAmount: 3000,
  reservedAt: RESERVED_AT,
});

const coupon = (id: string, status: CouponHolding["status"], orderId: string | null, userId = USER): CouponHolding => ({ id, userId, status, orderId });

type SagaEventName = "OrderPlaced" | "OrderCompleted" | "OrderFailed";

/** Folds a batch as the runner does: each event's decision sees the effects of the events before it. */
function when<E extends SagaEventName>(state: CouponSagaState, type: E, events: EventPayloads[E][]) {
  const reaction = couponSaga.reactions[type]!;
  const ids = context();
  const effects: CouponSagaEffect[] = [];
  const answers: DomainEvent[] = [];
  for (const event of events) {
    const decided = reaction.decide(state, event, ids);
    for (const effect of decided.effects) state = couponSaga.evolve(state, effect);
    effects.push(...decided.effects);
    answers.push(...decided.publish);
  }
  return { effects, answers, state };
}

const placed = (orderId: string, userCouponId: string | null = "coupon-a", discountAmount = 3000) =>
  build.orderPlaced({ orderId, userId: USER, userCouponId, discountAmount });
const completed = (orderId: string) => build.orderCompleted({ orderId, userId: USER, discountAmount: 3000 });
const failed = (orderId: string, userCouponId: string | null = "coupon-a") => build.orderFailed({ orderId, userId: USER, userCouponId });

test("the inbox consumers keep their names, so events handled before the kit stay handled", () => {
  expect(couponSaga.service).toBe("coupon");
  expect(couponSaga.reactions.OrderPlaced!.consumer).toBe(ON_ORDER_PLACED);
  expect(couponSaga.reactions.OrderCompleted!.consumer).toBe(ON_ORDER_COMPLETED);
  expect(couponSaga.reactions.OrderFailed!.consumer).toBe(ON_ORDER_FAILED);
  expect([ON_ORDER_PLACED, ON_ORDER_COMPLETED, ON_ORDER_FAILED]).toEqual([
    "coupon.confirm-reservation",
    "coupon.use-reservation",
    "coupon.release-reservation",
  ]);
  expect(Object.keys(couponSaga.reactions).sort()).toEqual(["OrderCompleted", "OrderFailed", "OrderPlaced"]);
});

describe("which events concern the coupon service at all (the others get no inbox row and no transaction)", () => {
  test("an order placed or failed without a coupon does not; with one it does, in any spelling", () => {
    const { OrderPlaced, OrderFailed } = couponSaga.reactions;
    expect([OrderPlaced!.concerns!(placed("order-1", null)), OrderFailed!.concerns!(failed("order-1", null))]).toEqual([false, false]);
    expect([OrderPlaced!.concerns!(placed("order-1", "COUPON-A")), OrderFailed!.concerns!(failed("order-1"))]).toEqual([true, true]);
  });

  test("every completion does: it names no coupon, so only the reservation can say", () => {
    expect("concerns" in couponSaga.reactions.OrderCompleted!).toBe(false);
  });
});

describe("OrderPlaced: the reservation is confirmed, or its lapsed coupon taken again", () => {
  test("given an order without a coupon, when it is placed, then nothing changes", () => {
    const start = given({ coupons: [coupon("coupon-a", "AVAILABLE", null)] });
    const { effects, answers, state } = when(start, "OrderPlaced", [placed("order-1", null)]);
    expect(effects).toEqual([]);
    expect(answers).toEqual([]);
    expect(state).toBe(start);
  });

  test("given a RESERVED reservation, when the order is placed, then it is CONFIRMED as it was priced and the coupon stays held", () => {
    const held = coupon("coupon-a", "RESERVED", "order-1");
    const { effects, answers, state } = when(given({ reservations: [reservation("order-1", "RESERVED")], coupons: [held] }), "OrderPlaced", [
      placed("order-1", "coupon-a", 9999),
    ]);
    expect(effects).toEqual([{ kind: "confirmed", reservation: reservation("order-1", "CONFIRMED") }]);
    expect(answers).toEqual([]);
    expect(state.reservations.get("order-1")).toEqual(reservation("order-1", "CONFIRMED"));
    expect(state.userCoupons.get("coupon-a")).toEqual(held);
  });

  test.each<ReservationStatus>(["CONFIRMED", "USED", "RELEASED", "CANCELLED"])(
    "given a %s reservation, when the order is placed (again), then nothing changes",
    (status) => {
      const start = given({ reservations: [reservation("order-1", status)], coupons: [coupon("coupon-a", "AVAILABLE", null)] });
      const { effects, state } = when(start, "OrderPlaced", [placed("order-1")]);
      expect(effects).toEqual([]);
      expect(state).toBe(start);
    },
  );

  test("given the failure overtook the step (a CANCELLED tombstone) and the coupon is free, when the order is placed, then the coupon is not taken", () => {
    const tombstone = { ...reservation("order-1", "CANCELLED"), discountAmount: 0 };
    const { effects, state } = when(given({ reservations: [tombstone], coupons: [coupon("coupon-a", "AVAILABLE", null)] }), "OrderPlaced", [placed("order-1")]);
    expect(effects).toEqual([]);
    expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "AVAILABLE", null));
  });

  test("given a LAPSED reservation whose coupon is still free, when the order is placed, then the coupon is held again and the reservation CONFIRMED at the order's discount", () => {
    const { effects, state } = when(
      given({ reservations: [reservation("order-1", "LAPSED")], coupons: [coupon("coupon-a", "AVAILABLE", null)] }),
      "OrderPlaced",
      [placed("order-1", "coupon-a", 2500)],
    );
    const confirmed = { ...reservation("order-1", "CONFIRMED"), discountAmount: 2500 };
    expect(effects).toEqual([
      { kind: "couponRetaken", userCouponId: "coupon-a", orderId: "order-1" },
      { kind: "confirmed", reservation: confirmed },
    ]);
    expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "RESERVED", "order-1"));
    expect(state.reservations.get("order-1")).toEqual(confirmed);
  });

  test("given no reservation at all and a free coupon, when the order is placed, then the coupon is held and the reservation starts now", () => {
    const { effects } = when(given({ coupons: [coupon("coupon-a", "AVAILABLE", null)] }), "OrderPlaced", [placed("order-1", "coupon-a", 2500)]);
    expect(effects).toEqual([
      { kind: "couponRetaken", userCouponId: "coupon-a", orderId: "order-1" },
      {
        kind: "confirmed",
        reservation: { orderId: "order-1", userCouponId: "coupon-a", userId: USER, status: "CONFIRMED", discountAmount: 2500, reservedAt: NOW },
      },
    ]);
  });

  test("given an order that names its free coupon in upper case, when it is placed, then the coupon (as stored) is held for it", () => {
    const { effects, state } = when(given({ coupons: [coupon("coupon-a", "AVAILABLE", null)] }), "OrderPlaced", [placed("order-1", "COUPON-A")]);
    expect(effects.map((e) => e.kind)).toEqual(["couponRetaken", "confirmed"]);
    expect(effects[0]).toEqual({ kind: "couponRetaken", userCouponId: "coupon-a", orderId: "order-1" });
    expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "RESERVED", "order-1"));
  });

  test("given a LAPSED reservation whose coupon is still held for this very order, when the order is placed, then it is CONFIRMED without taking it again", () => {
    const { effects } = when(given({ reservations: [reservation("order-1", "LAPSED")], coupons: [coupon("coupon-a", "RESERVED", "order-1")] }), "OrderPlaced", [
      placed("order-1"),
    ]);
    expect(effects).toEqual([{ kind: "confirmed", reservation: reservation("order-1", "CONFIRMED") }]);
  });

  test.each([
    ["another order took it", [coupon("coupon-a", "RESERVED", "order-2")]],
    ["it was used by another order", [coupon("coupon-a", "USED", "order-2")]],
    ["it belongs to another user", [coupon("coupon-a", "AVAILABLE", null, "user-2")]],
    ["it does not exist", []],
  ])("given a LAPSED reservation whose coupon is gone (%s), when the order is placed, then the reservation stays LAPSED without a discount", (_, coupons) => {
    const start = given({ reservations: [reservation("order-1", "LAPSED")], coupons });
    const { effects, state } = when(start, "OrderPlaced", [placed("order-1")]);
    expect(effects).toEqual([{ kind: "lapsed", reservation: { ...reservation("order-1", "LAPSED"), discountAmount: 0 } }]);
    expect(state.userCoupons).toEqual(start.userCoupons);
  });

  test("given one OrderPlaced delivered twice (two event ids) in one batch, when the batch runs, then the reservation is confirmed once", () => {
    const { effects } = when(
      given({ reservations: [reservation("order-1", "RESERVED")], coupons: [coupon("coupon-a", "RESERVED", "order-1")] }),
      "OrderPlaced",
      [placed("order-1"), placed("order-1")],
    );
    expect(effects).toEqual([{ kind: "confirmed", reservation: reservation("order-1", "CONFIRMED") }]);
  });

  test("given two lapsed orders of one user naming the same free coupon in one batch, when the batch runs, then the first takes it and the second sees it taken", () => {
    const start = given({
      reservations: [reservation("order-1", "LAPSED"), reservation("order-2", "LAPSED")],
      coupons: [coupon("coupon-a", "AVAILABLE", null)],
    });
    const { effects, state } = when(start, "OrderPlaced", [placed("order-1"), placed("order-2")]);
    expect(effects).toEqual([
      { kind: "couponRetaken", userCouponId: "coupon-a", orderId: "order-1" },
      { kind: "confirmed", reservation: reservation("order-1", "CONFIRMED") },
      { kind: "lapsed", reservation: { ...reservation("order-2", "LAPSED"), discountAmount: 0 } },
    ]);
    expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "RESERVED", "order-1"));
  });
});

describe("OrderCompleted: the coupon held for the order is used, once", () => {
  test.each<ReservationStatus>(["CONFIRMED", "RESERVED"])(
    "given a %s reservation, when the order completes, then the coupon and the reservation are USED",
    (status) => {
      const { effects, answers, state } = when(
        given({ reservations: [reservation("order-1", status)], coupons: [coupon("coupon-a", "RESERVED", "order-1")] }),
        "OrderCompleted",
        [completed("order-1")],
      );
      expect(effects).toEqual([
        { kind: "couponUsed", userCouponId: "coupon-a", orderId: "order-1" },
        { kind: "used", reservation: reservation("order-1", "USED") },
      ]);
      expect(answers).toEqual([]);
      expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "USED", "order-1"));
      expect(state.reservations.get("order-1")).toEqual(reservation("order-1", "USED"));
    },
  );

  test("given no reservation (an order without a coupon), when it completes, then nothing changes", () => {
    const start = given();
    const { effects, state } = when(start, "OrderCompleted", [completed("order-1")]);
    expect(effects).toEqual([]);
    expect(state).toBe(start);
  });

  test.each<[ReservationStatus, string | null]>([
    ["USED", "coupon-a"],
    ["RELEASED", "coupon-a"],
    ["CANCELLED", "coupon-a"],
    ["LAPSED", null],
  ])("given a %s reservation (coupon %s), when the order completes, then nothing changes", (status, userCouponId) => {
    const start = given({ reservations: [reservation("order-1", status, userCouponId)], coupons: [coupon("coupon-a", "AVAILABLE", null)] });
    const { effects, state } = when(start, "OrderCompleted", [completed("order-1")]);
    expect(effects).toEqual([]);
    expect(state).toBe(start);
  });

  test("given a LAPSED reservation whose coupon is still free, when the order completes, then the coupon is taken again and used", () => {
    const { effects, state } = when(
      given({ reservations: [reservation("order-1", "LAPSED")], coupons: [coupon("coupon-a", "AVAILABLE", null)] }),
      "OrderCompleted",
      [completed("order-1")],
    );
    expect(effects).toEqual([
      { kind: "couponRetaken", userCouponId: "coupon-a", orderId: "order-1" },
      { kind: "couponUsed", userCouponId: "coupon-a", orderId: "order-1" },
      { kind: "used", reservation: reservation("order-1", "USED") },
    ]);
    expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "USED", "order-1"));
  });

  test("given a LAPSED reservation whose coupon another order took, when the order completes, then it is not used twice: only reported", () => {
    const start = given({ reservations: [reservation("order-1", "LAPSED")], coupons: [coupon("coupon-a", "RESERVED", "order-2")] });
    const { effects, state } = when(start, "OrderCompleted", [completed("order-1")]);
    expect(effects).toEqual([{ kind: "lapsedCouponLost", orderId: "order-1", userCouponId: "coupon-a" }]);
    expect(state).toEqual(start);
  });

  test("given one completion delivered twice in one batch, when the batch runs, then the coupon is used once", () => {
    const { effects } = when(
      given({ reservations: [reservation("order-1", "CONFIRMED")], coupons: [coupon("coupon-a", "RESERVED", "order-1")] }),
      "OrderCompleted",
      [completed("order-1"), completed("order-1")],
    );
    expect(effects.filter((e) => e.kind === "couponUsed")).toHaveLength(1);
    expect(effects).toHaveLength(2);
  });

  test("given two lapsed orders of one user naming the same free coupon in one batch, when both complete, then only the first uses it", () => {
    const start = given({
      reservations: [reservation("order-1", "LAPSED"), reservation("order-2", "LAPSED")],
      coupons: [coupon("coupon-a", "AVAILABLE", null)],
    });
    const { effects, state } = when(start, "OrderCompleted", [completed("order-1"), completed("order-2")]);
    expect(effects.map((e) => e.kind)).toEqual(["couponRetaken", "couponUsed", "used", "lapsedCouponLost"]);
    expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "USED", "order-1"));
    expect(state.reservations.get("order-2")).toEqual(reservation("order-2", "LAPSED"));
  });

  test("given a reservation holding a coupon that does not exist, when the order completes, then the batch fails instead of skipping it", () => {
    expect(() => when(given({ reservations: [reservation("order-1", "CONFIRMED")] }), "OrderCompleted", [completed("order-1")])).toThrow(
      "user coupon coupon-a not found",
    );
  });
});

describe("OrderFailed: whatever the order holds is given back, once; a tombstone when nothing was reserved yet", () => {
  test.each<ReservationStatus>(["RESERVED", "CONFIRMED"])(
    "given a %s reservation holding the coupon, when the order fails, then the coupon is AVAILABLE and the reservation RELEASED",
    (status) => {
      const { effects, answers, state } = when(
        given({ reservations: [reservation("order-1", status)], coupons: [coupon("coupon-a", "RESERVED", "order-1")] }),
        "OrderFailed",
        [failed("order-1")],
      );
      expect(effects).toEqual([
        { kind: "couponGivenBack", userCouponId: "coupon-a" },
        { kind: "released", reservation: reservation("order-1", "RELEASED") },
      ]);
      expect(answers).toEqual([]);
      expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "AVAILABLE", null));
      expect(state.reservations.get("order-1")).toEqual(reservation("order-1", "RELEASED"));
    },
  );

  test("given nothing recorded for the order, when it fails, then a CANCELLED tombstone is written and no coupon changes", () => {
    const start = given({ coupons: [coupon("coupon-a", "AVAILABLE", null)] });
    const { effects, state } = when(start, "OrderFailed", [failed("order-1")]);
    const tombstone = { orderId: "order-1", userCouponId: "coupon-a", userId: USER, status: "CANCELLED", discountAmount: 0, reservedAt: NOW };
    expect(effects).toEqual([{ kind: "cancelled", reservation: tombstone }]);
    expect(state.reservations.get("order-1")).toEqual(tombstone);
    expect(state.userCoupons).toEqual(start.userCoupons);
  });

  test("given a reservation whose coupon is held by another order by now, when the order fails, then it is RELEASED and the other order keeps the coupon", () => {
    const { effects, state } = when(
      given({ reservations: [reservation("order-1", "CONFIRMED")], coupons: [coupon("coupon-a", "RESERVED", "order-2")] }),
      "OrderFailed",
      [failed("order-1")],
    );
    expect(effects).toEqual([{ kind: "released", reservation: reservation("order-1", "RELEASED") }]);
    expect(state.userCoupons.get("coupon-a")).toEqual(coupon("coupon-a", "RESERVED", "order-2"));
  });

  test("given a LAPSED reservation (its coupon went back when it lapsed), when the order fails, then it is RELEASED and no coupon changes", () => {
    const start = given({ reservations: [reservation("order-1", "LAPSED")], coupons: [coupon("coupon-a", "RESERVED", "order-2")] });
    const { effects, state } = when(start, "OrderFailed", [failed("order-1")]);
    expect(effects).toEqual([{ kind: "released", reservation: reservation("order-1", "RELEASED") }]);
    expect(state.userCoupons).toEqual(start.userCoupons);
  });

  test.each<ReservationStatus>(["USED", "RELEASED", "CANCELLED"])(
    "given a %s reservation, when a (late or repeated) failure arrives, then nothing changes",
    (status) => {
      const start = given({ reservations: [reservation("order-1", status)], coupons: [coupon("coupon-a", "USED", "order-1")] });
      const { effects, state } = when(start, "OrderFailed", [failed("order-1")]);
      expect(effects).toEqual([]);
      expect(state).toBe(start);
    },
  );

  test("given one failure delivered twice in one batch, when the batch runs, then the coupon is given back once", () => {
    const { effects } = when(
      given({ reservations: [reservation("order-1", "CONFIRMED")], coupons: [coupon("coupon-a", "RESERVED", "order-1")] }),
      "OrderFailed",
      [failed("order-1"), failed("order-1")],
    );
    expect(effects.map((e) => e.kind)).toEqual(["couponGivenBack", "released"]);
  });

  test("given two failures of an order with nothing recorded in one batch, when the batch runs, then one tombstone is written", () => {
    const { effects } = when(given(), "OrderFailed", [failed("order-1"), failed("order-1")]);
    expect(effects.map((e) => e.kind)).toEqual(["cancelled"]);
  });

  test("given two failing orders of one user in one batch, when the batch runs, then each gives back only its own coupon", () => {
    const start = given({
      reservations: [reservation("order-1", "CONFIRMED", "coupon-a"), reservation("order-2", "RESERVED", "coupon-b")],
      coupons: [coupon("coupon-a", "RESERVED", "order-1"), coupon("coupon-b", "RESERVED", "order-2"), coupon("coupon-c", "RESERVED", "order-3")],
    });
    const { effects, state } = when(start, "OrderFailed", [failed("order-1", "coupon-a"), failed("order-2", "coupon-b")]);
    expect(effects.filter((e) => e.kind === "couponGivenBack")).toEqual([
      { kind: "couponGivenBack", userCouponId: "coupon-a" },
      { kind: "couponGivenBack", userCouponId: "coupon-b" },
    ]);
    expect(state.userCoupons.get("coupon-c")).toEqual(coupon("coupon-c", "RESERVED", "order-3"));
  });
});
