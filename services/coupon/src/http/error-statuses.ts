/** HTTP statuses of this service's business codes (the shared ones come from http-kit); the domain errors carry only the code. */
export const couponErrorStatuses: Record<string, number> = {
  COUPON_SOLD_OUT: 409,
  COUPON_ALREADY_ISSUED: 409,
  COUPON_NOT_ACTIVE: 409,
  COUPON_NOT_USABLE: 409,
  COUPON_ISSUE_UNAVAILABLE: 503,
};
