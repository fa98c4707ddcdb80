// What becomes of an Idempotency-Key claim when the attempt that holds it fails, and freeing it
// fails too (the database being what failed): it is tried again until it works, so the client's
// retry is not told "in progress" for the whole take-over time. The ports are stand-ins here; no
// database (src/domain/placement.ts).
import { Placement } from "../src/domain/placement.ts";
import type { CouponReservations, OrderStore, PlacementKeyState, ProductCatalog } from "../src/domain/ports.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DATABASE_DOWN = new Error("connect ECONNREFUSED 127.0.0.1:5432");

/** A store whose claim always succeeds and whose release and abandon fail `failures` times first. */
function storeFailingToSettle(failures: number, claim: PlacementKeyState = { state: "claimed", orderId: "order-1" }) {
  const calls = { release: 0, abandon: 0 };
  let left = failures;
  const settle = (kind: "release" | "abandon") => async () => {
    calls[kind]++;
    if (left-- > 0) throw DATABASE_DOWN;
  };
  const store = {
    claimIdempotencyKey: async () => claim,
    releaseIdempotencyKey: settle("release"),
    abandonIdempotencyKey: settle("abandon"),
    placeOrder: async () => {
      throw DATABASE_DOWN;
    },
  } as unknown as OrderStore;
  return { store, calls };
}

const quoting: ProductCatalog = { quote: async (ids) => ids.map((id) => ({ id, name: id, price: 1_000, stock: 10 })) };
const catalogDown: ProductCatalog = {
  quote: async () => {
    throw new Error("catalog unreachable");
  },
};
const noCoupons = {} as CouponReservations;
const command = { userId: "u-1", idempotencyKey: "key-1", items: [{ productId: "p-1", quantity: 1 }] };
const placement = (store: OrderStore, catalog: ProductCatalog, takeOverAfterMs = 30_000) =>
  new Placement(store, catalog, noCoupons, { sagaTimeoutMs: 30_000, now: () => new Date(), settleRetryMs: 10, takeOverAfterMs });

test("given the catalog and then the database fail, when the claim cannot be freed, then freeing it is tried again until it works, and then no more", async () => {
  const { store, calls } = storeFailingToSettle(3);
  await expect(placement(store, catalogDown).place(command)).rejects.toThrow("catalog unreachable");
  await sleep(200);
  expect(calls).toEqual({ release: 4, abandon: 0 });
});

test("given the order cannot be stored (the database is gone), when the claim cannot be abandoned either, then abandoning it is tried again until it works", async () => {
  const { store, calls } = storeFailingToSettle(2);
  await expect(placement(store, quoting).place(command)).rejects.toThrow(DATABASE_DOWN);
  await sleep(200);
  expect(calls).toEqual({ release: 0, abandon: 3 });
});

test("the retries stop halfway through the take-over time, before another request may hold the claim", async () => {
  const { store, calls } = storeFailingToSettle(1_000);
  await expect(placement(store, catalogDown, 100).place(command)).rejects.toThrow("catalog unreachable");
  await sleep(300);
  const stoppedAt = calls.release;
  expect(stoppedAt).toBeGreaterThan(1);
  expect(stoppedAt).toBeLessThanOrEqual(7);
  await sleep(100);
  expect(calls.release).toBe(stoppedAt);
});
