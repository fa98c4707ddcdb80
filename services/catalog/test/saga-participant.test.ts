import type { BalanceDebited, EventName, EventPayloads, OrderCompleted, SagaItem } from "@shop/events";
import { foldDecisions, type DecisionContext } from "@shop/saga";
import { build } from "@shop/testing";
import type { OrderLine, ReservationStatus, StockReservation } from "../src/domain/model.ts";
import { ON_BALANCE_DEBITED, ON_ORDER_COMPLETED, ON_ORDER_FAILED, stockParticipant, type StockState } from "../src/domain/saga-participant.ts";

// Given a state, when a batch of events is decided (each on the state the ones before it left),
// then these effects, these answers and this state. No database: the runner's fold, pure.

const NOW = new Date("2026-11-23T03:00:00.000Z");

function given(stock: Record<string, number> = {}, reservations: StockReservation[] = []): StockState {
  return { stock: new Map(Object.entries(stock)), reservations: new Map(reservations.map((r) => [r.orderId, r])) };
}

const reservation = (orderId: string, status: ReservationStatus, items: OrderLine[] = []): StockReservation => ({ orderId, userId: "user-1", status, items });

function when<E extends "BalanceDebited" | "OrderFailed" | "OrderCompleted">(state: StockState, type: E, events: EventPayloads[E][]) {
  let ids = 0;
  const context: DecisionContext = { now: NOW, newId: () => `id-${++ids}` };
  const reaction = stockParticipant.reactions[type as EventName]!;
  return foldDecisions(
    state,
    events,
    (current, event) => reaction.decide(current, event as never, context),
    (current, effect) => stockParticipant.evolve(current, effect),
  );
}

const items = (...lines: [productId: string, quantity: number][]): SagaItem[] =>
  lines.map(([productId, quantity]) => ({ productId, quantity, unitPrice: 1_000 }));
const debited = (lines: [string, number][], overrides: Partial<BalanceDebited> = {}) =>
  build.balanceDebited({ items: items(...lines), amount: 1_000, ...overrides });
const completed = (orderId: string, lines: [string, number][], completedAt = NOW.toISOString()): OrderCompleted =>
  build.orderCompleted({ orderId, completedAt, items: items(...lines).map((i) => ({ ...i, name: "상품" })) });

test("the inbox scopes keep the names events were claimed under before the kit", () => {
  expect([ON_BALANCE_DEBITED, ON_ORDER_FAILED, ON_ORDER_COMPLETED]).toEqual(["catalog.reserve-stock", "catalog.release-stock", "catalog.complete-order"]);
  expect(stockParticipant.reactions.BalanceDebited!.consumer).toBe(ON_BALANCE_DEBITED);
  expect(stockParticipant.reactions.OrderFailed!.consumer).toBe(ON_ORDER_FAILED);
  expect(stockParticipant.reactions.OrderCompleted!.consumer).toBe(ON_ORDER_COMPLETED);
  expect(stockParticipant.service).toBe("catalog");
});

describe("BalanceDebited", () => {
  test("given enough stock, every line is taken and StockReserved answers with the event's amount and items", () => {
    const event = debited(
      [
        ["p_b", 2],
        ["p_a", 1],
        ["p_b", 3],
      ],
      { amount: 6_000 },
    );
    const then = when(given({ p_a: 10, p_b: 10 }), "BalanceDebited", [event]);
    const lines = [
      { productId: "p_a", quantity: 1 },
      { productId: "p_b", quantity: 5 },
    ];
    expect(then.effects).toEqual([{ kind: "reserved", reservation: { orderId: event.orderId, userId: event.userId, status: "RESERVED", items: lines } }]);
    expect(then.publish).toEqual([
      {
        type: "StockReserved",
        key: event.orderId,
        payload: { eventId: "id-1", occurredAt: NOW.toISOString(), orderId: event.orderId, userId: event.userId, amount: 6_000, items: event.items },
      },
    ]);
    expect(Object.fromEntries(then.state.stock)).toEqual({ p_a: 9, p_b: 5 });
    expect(then.state.reservations.get(event.orderId)?.status).toBe("RESERVED");
  });

  test("given exactly enough stock, the order takes it all down to 0", () => {
    const then = when(given({ p_a: 3 }), "BalanceDebited", [debited([["p_a", 3]])]);
    expect(then.effects.map((e) => e.kind)).toEqual(["reserved"]);
    expect(then.state.stock.get("p_a")).toBe(0);
  });

  test("given one line short, nothing is taken and StockReservationFailed names that product", () => {
    const event = debited([
      ["p_a", 3],
      ["p_b", 2],
      ["p_c", 4],
    ]);
    const then = when(given({ p_a: 50, p_b: 1, p_c: 50 }), "BalanceDebited", [event]);
    expect(then.effects).toEqual([{ kind: "rejected", reservation: { orderId: event.orderId, userId: event.userId, status: "REJECTED", items: [] } }]);
    expect(then.publish).toEqual([
      {
        type: "StockReservationFailed",
        key: event.orderId,
        payload: {
          eventId: "id-1",
          occurredAt: NOW.toISOString(),
          orderId: event.orderId,
          userId: event.userId,
          reason: "OUT_OF_STOCK",
          detail: "not enough stock of product p_b",
          productId: "p_b",
        },
      },
    ]);
    expect(Object.fromEntries(then.state.stock)).toEqual({ p_a: 50, p_b: 1, p_c: 50 });
  });

  test("given two lines short, the refusal names the first in product-id order", () => {
    const then = when(given({ p_a: 0, p_b: 0 }), "BalanceDebited", [
      debited([
        ["p_b", 1],
        ["p_a", 1],
      ]),
    ]);
    expect(then.publish[0]!.payload).toMatchObject({ reason: "OUT_OF_STOCK", productId: "p_a" });
  });

  test("given the same product on two lines, their sum is what must be in stock", () => {
    const then = when(given({ p_a: 4 }), "BalanceDebited", [
      debited([
        ["p_a", 2],
        ["p_a", 3],
      ]),
    ]);
    expect(then.effects.map((e) => e.kind)).toEqual(["rejected"]);
    expect(then.publish[0]!.payload).toMatchObject({ reason: "OUT_OF_STOCK", productId: "p_a" });
  });

  test("given an unknown product, the order is refused as OUT_OF_STOCK saying it does not exist", () => {
    const then = when(given({ p_a: 5 }), "BalanceDebited", [
      debited([
        ["p_a", 1],
        ["p_unknown", 1],
      ]),
    ]);
    expect(then.publish[0]!.payload).toMatchObject({ reason: "OUT_OF_STOCK", productId: "p_unknown", detail: "product p_unknown does not exist" });
    expect(then.state.stock.get("p_a")).toBe(5);
  });

  test.each([
    ["no items", [] as SagaItem[], null, "the order has no items"],
    ["a zero quantity", items(["p_a", 1], ["p_b", 0]), "p_a", "quantity 0 of product p_b is not a positive integer"],
    ["a fractional quantity", items(["p_a", 1.5]), "p_a", "quantity 1.5 of product p_a is not a positive integer"],
  ])("given %s, the order is refused as INVALID_ITEMS and nothing is taken", (_, lines, productId, detail) => {
    const event = build.balanceDebited({ items: lines });
    const then = when(given({ p_a: 10, p_b: 10 }), "BalanceDebited", [event]);
    expect(then.effects).toEqual([{ kind: "rejected", reservation: { orderId: event.orderId, userId: event.userId, status: "REJECTED", items: [] } }]);
    expect(then.publish[0]).toMatchObject({ type: "StockReservationFailed", payload: { reason: "INVALID_ITEMS", productId, detail } });
    expect(Object.fromEntries(then.state.stock)).toEqual({ p_a: 10, p_b: 10 });
  });

  test.each(["CANCELLED", "RESERVED", "REJECTED", "RELEASED", "COMMITTED"] as const)(
    "given a %s record (a tombstone, or handled already), nothing is taken or answered",
    (status) => {
      const event = debited([["p_a", 1]]);
      const then = when(given({ p_a: 10 }, [reservation(event.orderId, status)]), "BalanceDebited", [event]);
      expect(then.effects).toEqual([]);
      expect(then.publish).toEqual([]);
      expect(then.state.stock.get("p_a")).toBe(10);
    },
  );

  test("given the same order twice in one batch (a second debit under a new event id), it is reserved once", () => {
    const event = debited([["p_a", 2]]);
    const then = when(given({ p_a: 10 }), "BalanceDebited", [event, { ...event, eventId: "another" }]);
    expect(then.effects.map((e) => e.kind)).toEqual(["reserved"]);
    expect(then.publish.map((p) => p.type)).toEqual(["StockReserved"]);
    expect(then.state.stock.get("p_a")).toBe(8);
  });

  test("given orders of the same product in one batch, each sees the stock the ones before it took: the later ones are refused", () => {
    const orders = [debited([["p_a", 2]]), debited([["p_a", 2]]), debited([["p_a", 1]]), debited([["p_a", 1]])];
    const then = when(given({ p_a: 5 }), "BalanceDebited", orders);
    expect(then.publish.map((p) => [p.key, p.type])).toEqual([
      [orders[0]!.orderId, "StockReserved"],
      [orders[1]!.orderId, "StockReserved"],
      [orders[2]!.orderId, "StockReserved"],
      [orders[3]!.orderId, "StockReservationFailed"],
    ]);
    expect(then.state.stock.get("p_a")).toBe(0);
    expect(new Set(then.publish.map((p) => p.payload.eventId)).size).toBe(4); // a fresh id per answer
  });

  test("given an order too big for what is left, a smaller one after it still fits", () => {
    const orders = [debited([["p_a", 2]]), debited([["p_a", 2]]), debited([["p_a", 1]])];
    const then = when(given({ p_a: 3 }), "BalanceDebited", orders);
    expect(then.effects.map((e) => e.kind)).toEqual(["reserved", "rejected", "reserved"]);
    expect(then.state.stock.get("p_a")).toBe(0);
  });
});

describe("OrderFailed", () => {
  test("given a RESERVED order, its lines go back to stock and it is RELEASED, with no answer", () => {
    const held = reservation("o-1", "RESERVED", [
      { productId: "p_a", quantity: 2 },
      { productId: "p_b", quantity: 1 },
    ]);
    const then = when(given({ p_a: 8, p_b: 0 }, [held]), "OrderFailed", [build.orderFailed({ orderId: "o-1" })]);
    expect(then.effects).toEqual([{ kind: "released", reservation: { ...held, status: "RELEASED" } }]);
    expect(then.publish).toEqual([]);
    expect(Object.fromEntries(then.state.stock)).toEqual({ p_a: 10, p_b: 1 });
  });

  test("given no record yet (it overtook BalanceDebited), a CANCELLED tombstone is left and nothing else", () => {
    const event = build.orderFailed({ userId: "user-9" });
    const then = when(given({ p_a: 8 }), "OrderFailed", [event]);
    expect(then.effects).toEqual([{ kind: "cancelled", reservation: { orderId: event.orderId, userId: "user-9", status: "CANCELLED", items: [] } }]);
    expect(then.publish).toEqual([]);
    expect(then.state.stock.get("p_a")).toBe(8);
  });

  test.each(["COMMITTED", "REJECTED", "RELEASED", "CANCELLED"] as const)("given a %s order, nothing changes", (status) => {
    const then = when(given({ p_a: 8 }, [reservation("o-1", status, [{ productId: "p_a", quantity: 2 }])]), "OrderFailed", [
      build.orderFailed({ orderId: "o-1" }),
    ]);
    expect(then.effects).toEqual([]);
    expect(then.state.stock.get("p_a")).toBe(8);
  });

  test("given two failure notices of one order in one batch, the stock goes back once", () => {
    const held = reservation("o-1", "RESERVED", [{ productId: "p_a", quantity: 2 }]);
    const then = when(given({ p_a: 8 }, [held]), "OrderFailed", [
      build.orderFailed({ orderId: "o-1" }),
      build.orderFailed({ orderId: "o-1", failureCode: "PAYMENT_FAILED" }),
    ]);
    expect(then.effects.map((e) => e.kind)).toEqual(["released"]);
    expect(then.state.stock.get("p_a")).toBe(10);
  });

  test("given two failures before any reservation of one order in one batch, one tombstone", () => {
    const then = when(given(), "OrderFailed", [build.orderFailed({ orderId: "o-1" }), build.orderFailed({ orderId: "o-1" })]);
    expect(then.effects.map((e) => e.kind)).toEqual(["cancelled"]);
  });

  test("given two RESERVED orders of the same product failing in one batch, both give back", () => {
    const state = given({ p_a: 0 }, [
      reservation("o-1", "RESERVED", [{ productId: "p_a", quantity: 2 }]),
      reservation("o-2", "RESERVED", [{ productId: "p_a", quantity: 3 }]),
    ]);
    const then = when(state, "OrderFailed", [build.orderFailed({ orderId: "o-1" }), build.orderFailed({ orderId: "o-2" })]);
    expect(then.effects.map((e) => e.kind)).toEqual(["released", "released"]);
    expect(then.state.stock.get("p_a")).toBe(5);
  });
});

describe("OrderCompleted", () => {
  test("given a RESERVED order, it becomes COMMITTED and its units count for its Seoul day, with no answer", () => {
    const held = reservation("o-1", "RESERVED", [{ productId: "p_a", quantity: 2 }]);
    // 00:30 on the 21st in Seoul, still the 20th in UTC.
    const then = when(given({ p_a: 8 }, [held]), "OrderCompleted", [completed("o-1", [["p_a", 2]], "2026-11-20T15:30:00.000Z")]);
    expect(then.effects).toEqual([
      { kind: "committed", reservation: { ...held, status: "COMMITTED" } },
      { kind: "sold", day: "2026-11-21", lines: [{ productId: "p_a", quantity: 2 }] },
    ]);
    expect(then.publish).toEqual([]);
    expect(then.state.stock.get("p_a")).toBe(8); // the stock stays taken
    expect(then.state.reservations.get("o-1")?.status).toBe("COMMITTED");
  });

  test("given no record, a COMMITTED one is written so that a late OrderFailed gives nothing back", () => {
    const event = completed("o-1", [["p_a", 1]]);
    const then = when(given({ p_a: 8 }), "OrderCompleted", [event]);
    expect(then.effects[0]).toEqual({ kind: "committed", reservation: { orderId: "o-1", userId: event.userId, status: "COMMITTED", items: [] } });
    const late = when(then.state, "OrderFailed", [build.orderFailed({ orderId: "o-1" })]);
    expect(late.effects).toEqual([]);
  });

  test("given a COMMITTED order (completed already), nothing is counted again", () => {
    const then = when(given({ p_a: 8 }, [reservation("o-1", "COMMITTED")]), "OrderCompleted", [completed("o-1", [["p_a", 1]])]);
    expect(then.effects).toEqual([]);
  });

  test.each(["REJECTED", "RELEASED", "CANCELLED"] as const)("given a %s order, its status stays and its units are counted", (status) => {
    const then = when(given({ p_a: 8 }, [reservation("o-1", status)]), "OrderCompleted", [completed("o-1", [["p_a", 1]])]);
    expect(then.effects).toEqual([{ kind: "sold", day: "2026-11-23", lines: [{ productId: "p_a", quantity: 1 }] }]);
    expect(then.state.reservations.get("o-1")?.status).toBe(status);
  });

  test("units of unknown products and non-positive quantities are not counted; repeated lines are summed", () => {
    const then = when(given({ p_a: 8, p_b: 8 }), "OrderCompleted", [
      completed("o-1", [
        ["p_b", 2],
        ["p_unknown", 5],
        ["p_a", 0],
        ["p_b", 1],
      ]),
    ]);
    expect(then.effects[1]).toEqual({ kind: "sold", day: "2026-11-23", lines: [{ productId: "p_b", quantity: 3 }] });
  });

  test("an order with nothing countable commits without a sale", () => {
    const then = when(given({}), "OrderCompleted", [completed("o-1", [["p_unknown", 1]])]);
    expect(then.effects.map((e) => e.kind)).toEqual(["committed"]);
  });

  test("given the same order twice in one batch, it is committed and counted once", () => {
    const event = completed("o-1", [["p_a", 1]]);
    const then = when(given({ p_a: 8 }, [reservation("o-1", "RESERVED", [{ productId: "p_a", quantity: 1 }])]), "OrderCompleted", [
      event,
      { ...event, eventId: "another" },
    ]);
    expect(then.effects.map((e) => e.kind)).toEqual(["committed", "sold"]);
  });

  test("a batch spanning two Seoul days counts each order on its own day", () => {
    const then = when(given({ p_a: 8 }), "OrderCompleted", [
      completed("o-1", [["p_a", 1]], "2026-11-22T14:59:59.999Z"),
      completed("o-2", [["p_a", 2]], "2026-11-22T15:00:00.000Z"),
    ]);
    expect(then.effects.filter((e) => e.kind === "sold")).toEqual([
      { kind: "sold", day: "2026-11-22", lines: [{ productId: "p_a", quantity: 1 }] },
      { kind: "sold", day: "2026-11-23", lines: [{ productId: "p_a", quantity: 2 }] },
    ]);
  });
});

describe("evolve", () => {
  test("leaves the state it is given untouched", () => {
    const state = given({ p_a: 5 });
    stockParticipant.evolve(state, { kind: "reserved", reservation: reservation("o-1", "RESERVED", [{ productId: "p_a", quantity: 2 }]) });
    expect(state.stock.get("p_a")).toBe(5);
    expect(state.reservations.size).toBe(0);
  });
});
