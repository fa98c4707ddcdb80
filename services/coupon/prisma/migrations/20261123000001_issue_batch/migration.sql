-- Hand-written (Prisma cannot express these): the guards of the issuing limit in PostgreSQL.

-- The last line of defence: a bug in the issuing code fails loudly instead of over-issuing.
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_issued_within_total" CHECK ("issued_quantity" >= 0 AND "issued_quantity" <= "total_quantity");
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_terms_valid" CHECK (
  "total_quantity" > 0 AND "valid_for_days" > 0 AND "discount_value" > 0
  AND ("discount_type" <> 'PERCENT' OR "discount_value" <= 100)
  AND ("issue_ends_at" IS NULL OR "issue_ends_at" > "issue_starts_at")
);

-- One group commit of admitted issue requests, in one round trip (called as a single autocommit
-- statement). First the campaign's row lock: batches of one campaign, from any process, run one
-- after another. The insert then runs as a new statement, so its snapshot includes every batch
-- committed before the lock was granted: it inserts only users without a coupon of the campaign,
-- in request order (p_ids/p_user_ids order), at most total - issued of them, and counts them on
-- the campaign row in the same transaction. Redis only filters; this is the final word.
-- Returns the inserted coupons ('issued') and the requesting users who already had one ('held');
-- a request in neither set was refused for lack of room.
CREATE FUNCTION "issue_user_coupons"(p_coupon_id uuid, p_ids uuid[], p_user_ids text[])
RETURNS TABLE (o_kind text, o_user_coupon_id uuid, o_user_id text, o_expires_at timestamptz(3))
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_room integer;
BEGIN
  SELECT c.total_quantity - c.issued_quantity INTO v_room FROM coupons c WHERE c.id = p_coupon_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH requested AS (
    -- One index probe per request: LATERAL ... LIMIT 1 cannot become a hash or merge join that
    -- reads every coupon of the campaign when the statistics are off (a new campaign).
    SELECT r.id, r.user_id, r.ord, h.user_id IS NOT NULL AS held
    FROM unnest(p_ids, p_user_ids) WITH ORDINALITY AS r(id, user_id, ord)
    LEFT JOIN LATERAL (SELECT u.user_id FROM user_coupons u WHERE u.coupon_id = p_coupon_id AND u.user_id = r.user_id LIMIT 1) h ON true
  ), fresh AS (
    SELECT DISTINCT ON (f.user_id) f.id, f.user_id, f.ord FROM requested f WHERE NOT f.held ORDER BY f.user_id, f.ord
  ), picked AS (
    SELECT p.id, p.user_id FROM fresh p ORDER BY p.ord LIMIT greatest(v_room, 0)
  ), inserted AS (
    INSERT INTO user_coupons (id, coupon_id, user_id, status, issued_at, expires_at, updated_at)
    SELECT picked.id, c.id, picked.user_id, 'AVAILABLE', now(), now() + make_interval(days => c.valid_for_days), now()
    FROM picked JOIN coupons c ON c.id = p_coupon_id
    ON CONFLICT (coupon_id, user_id) DO NOTHING
    RETURNING user_coupons.id, user_coupons.user_id, user_coupons.expires_at
  ), counted AS (
    UPDATE coupons SET issued_quantity = issued_quantity + (SELECT count(*) FROM inserted) WHERE coupons.id = p_coupon_id
  )
  SELECT 'issued'::text, i.id, i.user_id, i.expires_at FROM inserted i
  UNION ALL
  SELECT 'held'::text, NULL::uuid, r.user_id, NULL::timestamptz(3) FROM requested r WHERE r.held;
END;
$$;
