import { DomainError } from "@shop/errors";

/** Products the catalog does not know; nothing is ordered. */
export class UnknownProductsError extends DomainError {
  constructor(readonly missingProductIds: string[]) {
    super("NOT_FOUND", `no product with id ${missingProductIds.join(", ")}`, { missingProductIds });
  }
}

/** A service placement depends on did not answer (or its circuit is open); nothing was ordered. */
export class ServiceUnavailableError extends DomainError {
  constructor(readonly dependency: "catalog" | "coupon") {
    super("SERVICE_UNAVAILABLE", `the ${dependency} service is not available right now; retry with the same Idempotency-Key`, { dependency });
  }
}
