import { DomainError, NotFoundError } from "@shop/errors";

export class ProductNotFoundError extends NotFoundError {
  constructor(productId: string) {
    super(`product ${productId}`, { productId });
  }
}

export class ProductsNotFoundError extends NotFoundError {
  constructor(missingProductIds: string[]) {
    super(`products ${missingProductIds.join(", ")}`, { missingProductIds });
  }
}

export class StockBelowZeroError extends DomainError {
  constructor(productId: string, stock: number, stockDelta: number) {
    super("STOCK_BELOW_ZERO", `stock ${stock} of product ${productId} cannot change by ${stockDelta}: it would go below 0`, { productId, stock, stockDelta });
  }
}

export class StockLimitExceededError extends DomainError {
  constructor(productId: string, stock: number, stockDelta: number, max: number) {
    super("STOCK_LIMIT_EXCEEDED", `stock ${stock} of product ${productId} cannot change by ${stockDelta}: it would exceed ${max}`, {
      productId,
      stock,
      stockDelta,
      max,
    });
  }
}
