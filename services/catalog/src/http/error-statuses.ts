/** HTTP statuses of this service's business codes (the shared ones come from http-kit); the domain errors carry only the code. */
export const catalogErrorStatuses: Record<string, number> = {
  STOCK_BELOW_ZERO: 409,
  STOCK_LIMIT_EXCEEDED: 409,
};
