/** HTTP statuses of this service's business codes (the shared ones come from http-kit); the domain errors carry only the code. */
export const orderErrorStatuses: Record<string, number> = {
  SERVICE_UNAVAILABLE: 503,
  REQUEST_IN_PROGRESS: 409,
};
