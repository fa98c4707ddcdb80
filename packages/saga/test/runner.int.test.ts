import { randomUUID } from "node:crypto";
import { parseDatabaseUrl } from "@shop/config";
import { outboxTablesDdl, createSqlPool, type SqlTransaction } from "@shop/outbox";
import { build, createTestSchema, silentLogger, type TestSchema } from "@shop/testing";
import { decision, ignore, ParticipantRunner, type ParticipantRepository, type SagaParticipant } from "../src/index.ts";

// A participant as small as the protocol allows: it holds something for an order (OrderPlaced,
// answered with BalanceDebited) and gives it back when the order fails, with a tombstone when
// the failure comes first.
type HoldStatus = "HELD" | "RELEASED" | "CANCELLED";
interface HoldState {
  holds: ReadonlyMap<string, HoldStatus>;
}
type HoldEffect = { orderId: string; status: HoldStatus };

const holder: SagaParticipant<HoldState, HoldEffect> = {
  service: "kit-test",
  reactions: {
    OrderPlaced: {
      consumer: "kit-test.hold",
      decide: (state, event, context) => {
        if (event.userId === "poison") throw new Error("this order can never be held");
        return state.holds.has(event.orderId)
          ? ignore()
          : decision(
              [{ orderId: event.orderId, status: "HELD" }],
              [
                {
                  type: "BalanceDebited",
                  key: event.orderId,
                  payload: {
                    eventId: context.newId(),
                    occurredAt: context.now.toISOString(),
                    orderId: event.orderId,
                    userId: event.userId,
                    amount: event.totalAmount,
                    items: event.items,
                  },
                },
              ],
            );
      },
    },
    OrderFailed: {
      consumer: "kit-test.release",
      decide: (state, event) => {
        const status = state.holds.get(event.orderId);
        if (!status) return decision([{ orderId: event.orderId, status: "CANCELLED" }]);
        return status === "HELD" ? decision([{ orderId: event.orderId, status: "RELEASED" }]) : ignore();
      },
    },
  },
  evolve: (state, effect) => ({ holds: new Map(state.holds).set(effect.orderId, effect.status) }),
};

let saveFailures = 0;
let loads = 0;
const repository: ParticipantRepository<HoldState, HoldEffect> = {
  async load(tx: SqlTransaction, events) {
    loads++;
    const rows = await tx.query<{ order_id: string; status: HoldStatus }>("SELECT order_id, status FROM holds WHERE order_id = ANY($1::text[])", [
      events.map((e) => e.orderId),
    ]);
    return { holds: new Map(rows.map((r) => [r.order_id, r.status])) };
  },
  async save(tx, effects, state) {
    if (saveFailures > 0) {
      saveFailures--;
      throw new Error("the save failed half-way");
    }
    const orderIds = [...new Set(effects.map((e) => e.orderId))];
    await tx.execute(
      `INSERT INTO holds (order_id, status) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status`,
      [orderIds, orderIds.map((id) => state.holds.get(id)!)],
    );
  },
};

let db: TestSchema;
let runner: ParticipantRunner<HoldState, HoldEffect>;
let pool: ReturnType<typeof createSqlPool>;

beforeAll(async () => {
  db = await createTestSchema({ label: "saga-kit", sql: `${outboxTablesDdl} CREATE TABLE holds (order_id TEXT PRIMARY KEY, status TEXT NOT NULL);` });
  const location = parseDatabaseUrl(db.databaseUrl);
  pool = createSqlPool(location, { size: 4, name: "saga-kit", logger: silentLogger });
  runner = new ParticipantRunner({ participant: holder, repository, pool, outbox: { schema: location.schema, topicPrefix: "kit." } });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const holdOf = async (orderId: string) => (await db.query<{ status: string }>("SELECT status FROM holds WHERE order_id = $1", [orderId]))[0]?.status ?? null;
const answersFor = (orderId: string) => db.query<{ topic: string }>("SELECT topic FROM outbox_events WHERE key = $1 ORDER BY id", [orderId]);

test("given a batch with a duplicate and a second event of one order, when it runs, then each order is decided once on the state of the events before it", async () => {
  const first = build.orderPlaced();
  const other = build.orderPlaced();
  const againForFirst = build.orderPlaced({ orderId: first.orderId });
  await runner.handle("OrderPlaced", [first, first, other, againForFirst]);
  expect(await holdOf(first.orderId)).toBe("HELD");
  expect(await holdOf(other.orderId)).toBe("HELD");
  // The second OrderPlaced of the order saw the first one's hold: one answer per order.
  expect(await answersFor(first.orderId)).toEqual([{ topic: "kit.saga.balance-debited.v1" }]);
  expect(
    await db.query("SELECT 1 FROM inbox_events WHERE consumer = 'kit-test.hold' AND event_id = ANY($1::uuid[])", [
      [first.eventId, other.eventId, againForFirst.eventId],
    ]),
  ).toHaveLength(3);

  // Redelivered as a whole: every event was claimed, nothing changes.
  await runner.handle("OrderPlaced", [first, other, againForFirst]);
  expect(await answersFor(first.orderId)).toHaveLength(1);
});

test("given a failure before the step, when the step arrives later, then the tombstone stops it", async () => {
  const placed = build.orderPlaced();
  await runner.handle("OrderFailed", [build.orderFailed({ orderId: placed.orderId })]);
  await runner.handle("OrderPlaced", [placed]);
  expect(await holdOf(placed.orderId)).toBe("CANCELLED");
  expect(await answersFor(placed.orderId)).toEqual([]);
});

test("a batch whose save fails leaves nothing behind, inbox claims included, and its retry applies it", async () => {
  const placed = build.orderPlaced();
  saveFailures = 1;
  await expect(runner.handle("OrderPlaced", [placed])).rejects.toThrow("half-way");
  expect(await holdOf(placed.orderId)).toBeNull();
  expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [placed.eventId])).toEqual([]);
  await runner.handle("OrderPlaced", [placed]);
  expect(await holdOf(placed.orderId)).toBe("HELD");
});

test("concurrent batches locking the same orders in opposite delivery orders wait for each other and never deadlock", async () => {
  const orders = Array.from({ length: 20 }, () => build.orderPlaced({ orderId: randomUUID() }));
  const failures = [...orders].reverse().map((o) => build.orderFailed({ orderId: o.orderId }));
  for (let round = 0; round < 3; round++) {
    const placed = orders.map((o) => ({ ...o, eventId: randomUUID() }));
    await Promise.all([
      runner.handle("OrderPlaced", placed),
      runner.handle(
        "OrderFailed",
        failures.map((f) => ({ ...f, eventId: randomUUID() })),
      ),
    ]);
  }
  // Whichever came first, every order ends given back (RELEASED) or never held (CANCELLED), with at most one answer.
  for (const order of orders) {
    expect(["RELEASED", "CANCELLED"]).toContain(await holdOf(order.orderId));
    expect((await answersFor(order.orderId)).length).toBeLessThanOrEqual(1);
  }
});

test("batches delivered together (other partitions, other event types) share one transaction", async () => {
  const placed = [build.orderPlaced(), build.orderPlaced()];
  const failed = build.orderFailed();
  const before = loads;
  await Promise.all([runner.handle("OrderPlaced", [placed[0]!]), runner.handle("OrderPlaced", [placed[1]!]), runner.handle("OrderFailed", [failed])]);
  expect(loads - before).toBe(1);
  expect([await holdOf(placed[0]!.orderId), await holdOf(placed[1]!.orderId), await holdOf(failed.orderId)]).toEqual(["HELD", "HELD", "CANCELLED"]);
});

test("a poison batch merged with others fails alone: the others commit, and its own promise rejects", async () => {
  const good = build.orderPlaced();
  const poison = build.orderPlaced({ userId: "poison" });
  const outcomes = await Promise.allSettled([runner.handle("OrderPlaced", [good]), runner.handle("OrderPlaced", [poison])]);
  expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
  expect(await holdOf(good.orderId)).toBe("HELD");
  expect(await holdOf(poison.orderId)).toBeNull();
  expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [poison.eventId])).toEqual([]);
});

test("a batch of two orders: each answer goes on in the trace of the event it answers, not the batch's", async () => {
  const [first, second] = [build.orderPlaced(), build.orderPlaced()];
  const traceparents = ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"];
  await runner.handle("OrderPlaced", [first, second], traceparents);
  const traceOf = async (orderId: string) =>
    (await db.query<{ traceparent: string }>("SELECT headers->>'traceparent' AS traceparent FROM outbox_events WHERE key = $1", [orderId]))[0]?.traceparent;
  expect([await traceOf(first.orderId), await traceOf(second.orderId)]).toEqual(traceparents);
});

test("events a reaction says do not concern it are acknowledged without an inbox row, and a batch of only those without a transaction", async () => {
  const choosy = new ParticipantRunner({
    participant: { ...holder, reactions: { ...holder.reactions, OrderPlaced: { ...holder.reactions.OrderPlaced!, concerns: (e) => e.userCouponId != null } } },
    repository,
    pool,
    outbox: { schema: parseDatabaseUrl(db.databaseUrl).schema, topicPrefix: "kit." },
  });
  const withCoupon = build.orderPlaced({ userCouponId: randomUUID() });
  const without = [build.orderPlaced({ userCouponId: null }), build.orderPlaced({ userCouponId: null })];
  await choosy.handle("OrderPlaced", [without[0]!, withCoupon]);
  expect([await holdOf(without[0]!.orderId), await holdOf(withCoupon.orderId)]).toEqual([null, "HELD"]);
  const inboxed = await db.query<{ event_id: string }>("SELECT event_id FROM inbox_events WHERE event_id = ANY($1::uuid[])", [
    [withCoupon.eventId, ...without.map((e) => e.eventId)],
  ]);
  expect(inboxed).toEqual([{ event_id: withCoupon.eventId }]);

  const before = loads;
  await choosy.handle("OrderPlaced", [without[1]!]);
  expect(loads).toBe(before);
  expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [without[1]!.eventId])).toEqual([]);
});
