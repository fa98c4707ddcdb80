import { isValidUserId, matchRoute } from "../src/routing.ts";

test.each([
  ["GET", "/api/v1/users/u1/balance", "wallet", "/api/v1/users/:userId/balance"],
  ["POST", "/api/v1/users/u1/balance/charges", "wallet", "/api/v1/users/:userId/balance/charges"],
  ["GET", "/api/v1/users/u1/balance/history", "wallet", "/api/v1/users/:userId/balance/history"],
  ["POST", "/api/v1/users/u1/coupons", "coupon", "/api/v1/users/:userId/coupons"],
  ["POST", "/api/v1/users/u1/orders", "order", "/api/v1/users/:userId/orders"],
  ["GET", "/api/v1/users/u1/orders/o-9", "order", "/api/v1/users/:userId/orders/:orderId"],
  // Not an operation of the API (the upstream answers 404): labelled by its resource, never by its path.
  ["GET", "/api/v1/users/u1/orders/o-9/items", "order", "/api/v1/users/:userId/orders"],
  ["GET", "/api/v1/users/u1/payments", "payment", "/api/v1/users/:userId/payments"],
])("%s %s is user-scoped on %s", (method, path, upstream, route) => {
  expect(matchRoute(method, path)).toEqual({ upstream, access: "user", route, userId: "u1" });
});

test.each([
  ["GET", "/api/v1/products", "catalog"],
  ["GET", "/api/v1/products/top", "catalog"],
  ["HEAD", "/api/v1/products/p-1", "catalog"],
  ["GET", "/api/v1/products/", "catalog"],
  ["GET", "/api/v1/coupons", "coupon"],
  ["GET", "/api/v1/coupons/c-1", "coupon"],
])("%s %s is public on %s", (method, path, upstream) => {
  expect(matchRoute(method, path)).toMatchObject({ upstream, access: "public" });
});

test.each([
  ["GET", "/api/v1/products", "/api/v1/products"],
  ["GET", "/api/v1/products/top", "/api/v1/products/top"],
  ["GET", "/api/v1/products/p-1", "/api/v1/products/:productId"],
  ["GET", "/api/v1/products/", "/api/v1/products"],
  ["GET", "/api/v1/coupons/c-1", "/api/v1/coupons/:couponId"],
  ["PATCH", "/api/v1/admin/products/p-1", "/api/v1/admin/products/:productId"],
  ["POST", "/api/v1/admin/coupons", "/api/v1/admin/coupons"],
])("%s %s is labelled %s in the metrics", (method, path, route) => {
  expect(matchRoute(method, path)?.route).toBe(route);
});

test("writes under the public resources still need a token", () => {
  expect(matchRoute("POST", "/api/v1/products")).toMatchObject({ upstream: "catalog", access: "authenticated" });
  expect(matchRoute("DELETE", "/api/v1/coupons/c-1")).toMatchObject({ upstream: "coupon", access: "authenticated" });
});

test.each([
  ["POST", "/api/v1/admin/products", "catalog"],
  ["PATCH", "/api/v1/admin/products/p-1", "catalog"],
  ["GET", "/api/v1/admin/products", "catalog"],
  ["POST", "/api/v1/admin/coupons", "coupon"],
])("%s %s is admin-only on %s", (method, path, upstream) => {
  expect(matchRoute(method, path)).toMatchObject({ upstream, access: "admin" });
});

test("the user id is taken from the path as sent, for the caller to validate", () => {
  expect(matchRoute("GET", `/api/v1/users/${"x".repeat(65)}/balance`)?.userId).toBe("x".repeat(65));
  expect(matchRoute("GET", "/api/v1/users/a%20b/balance")?.userId).toBe("a%20b");
});

test.each([
  "/",
  "/api/v1",
  "/api/v1/",
  "/api/v2/products",
  "/api/v1/productsx",
  "/api/v1/Products",
  "/api/v1/admin",
  "/api/v1/admin/users",
  "/api/v1/admin/constructor",
  "/api/v1/constructor",
  "/api/v1/users",
  "/api/v1/users/u1",
  "/api/v1/users/u1/",
  "/api/v1/users/u1/profile",
  "/api/v1/users/u1/__proto__",
  "/api/v1/users//balance",
  "/api/v1//products",
  "/api/v1/products/../users/u2/balance",
  "/api/v1/users/u1/balance/../../u2/balance",
  "/api/v1/users/u1/./balance",
  "/api/v1/users/../admin/products",
  "/healthz",
])("%s is not routed", (path) => {
  expect(matchRoute("GET", path)).toBeUndefined();
});

test("user ids are 1-64 characters of [A-Za-z0-9_-]", () => {
  for (const valid of ["u", "user-1", "A_b-9", "x".repeat(64)]) expect(isValidUserId(valid)).toBe(true);
  for (const invalid of ["", "x".repeat(65), "a b", "a%20b", "a.b", "ü", "a/b", "{userId}"]) expect(isValidUserId(invalid)).toBe(false);
});
