-- Hand-written (Prisma cannot express these): the guards of the issuing limit in PostgreSQL.

-- The last line of defence: a bug in the issuing code fails loudly instead of over-issuing.
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_issued_within_total" CHECK ("issued_quantity" >= 0 AND "issued_quantity" <= "total_quantity");
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_terms_valid" CHECK (
  "total_quantity" > 0 AND "valid_for_days" > 0 AND "discount_value" > 0
  AND ("discount_type" <> 'PERCENT' OR "discount_value" <= 100)
  AND ("issue_ends_at" IS NULL OR "issue_ends_at" > "issue_starts_at")
);
