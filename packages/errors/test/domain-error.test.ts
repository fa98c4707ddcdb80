// Domain errors are answers, not faults: code, message and details, and no captured call stack.
import { DomainError, NotFoundError } from "../src/index.ts";

class SoldOut extends DomainError {
  constructor(couponId: string) {
    super("COUPON_SOLD_OUT", "all coupons are issued", { couponId });
  }
}

const thrownFrom = (depth: number): unknown => {
  if (depth > 0) return thrownFrom(depth - 1);
  try {
    throw new SoldOut("c-1");
  } catch (error) {
    return error;
  }
};

test("a domain error carries its code, message, details and class name", () => {
  const error = thrownFrom(5) as SoldOut;
  expect(error).toBeInstanceOf(DomainError);
  expect(error).toBeInstanceOf(Error);
  expect(error).toMatchObject({ code: "COUPON_SOLD_OUT", message: "all coupons are issued", details: { couponId: "c-1" }, name: "SoldOut" });
  expect(new NotFoundError("product", { productId: "p" })).toMatchObject({ code: "NOT_FOUND", message: "product was not found", name: "NotFoundError" });
});

test("a domain error captures no call stack (the costliest part of refusing a request)", () => {
  const error = thrownFrom(5) as SoldOut;
  expect(error.stack).toBe("SoldOut: all coupons are issued");
});

test("other errors still get their stack: the limit is restored after a domain error is made", () => {
  const limit = Error.stackTraceLimit;
  new SoldOut("c-2");
  expect(Error.stackTraceLimit).toBe(limit);
  const fault = new Error("a real fault");
  expect(fault.stack?.split("\n").length).toBeGreaterThan(1);
});
