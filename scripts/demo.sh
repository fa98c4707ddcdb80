#!/usr/bin/env bash
# `npm run demo`: the README's walkthrough, as it is written there (a test keeps the two equal and
# runs it in bash and zsh). A new user (minji-<time>) charges the wallet, takes a coupon, orders
# with it and reads the order's saga timeline; every step prints what came back, and the first
# failure stops the walk with the answer that failed. SHOP (default: the repository around the
# current folder) finds `npm run token`; API (default http://127.0.0.1:8080/api/v1) points the walk
# elsewhere. No comments inside the block: interactive zsh would run them as commands.
( set -euo pipefail
  SHOP=${SHOP:-$(git rev-parse --show-toplevel)}
  API=${API:-http://127.0.0.1:8080/api/v1}
  ME=minji-$(date +%s)-$$
  step() { printf '\n== %s\n' "$*"; }
  call() { OUT=$(curl -sS --fail-with-body "$@") || { printf 'FAILED: %s\n' "$OUT" >&2; return 1; }; printf '%s\n' "$OUT"; }

  step "1. the system answers"
  call "${API%/api/v1}/readyz" | jq -c '{status}'

  step "2. tokens for $ME and for an admin (npm run token)"
  TOKEN=$(npm --prefix "$SHOP" run -s token -- "$ME")
  ADMIN=$(npm --prefix "$SHOP" run -s token -- ops admin)
  printf '%.16s… and %.16s…\n' "$TOKEN" "$ADMIN"

  step "3. the catalog (public)"
  call "$API/products?limit=3" | jq -c '.items[] | {id, name, price, stock}'
  PRODUCT=$(call "$API/products?limit=1" | jq -r '.items[0].id')

  step "4. $ME charges 100,000 KRW"
  call -X POST "$API/users/$ME/balance/charges" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d '{"amount": 100000}' | jq -c '{userId, amount, balance}'

  step "5. an admin opens a campaign: 10% off, at most 5,000 KRW"
  COUPON=$(call -X POST "$API/admin/coupons" -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d '{"name":"겨울맞이 10% 할인","discountType":"PERCENT","discountValue":10,"maxDiscountAmount":5000,"totalQuantity":100,"validForDays":7}' | jq -r .id)
  printf 'campaign %s\n' "$COUPON"

  step "6. $ME takes a coupon of it"
  USER_COUPON=$(call -X POST "$API/users/$ME/coupons" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"couponId\":\"$COUPON\"}" | jq -r .userCouponId)
  printf 'coupon %s\n' "$USER_COUPON"

  step "7. $ME orders the product with the coupon, waiting up to 10 s for the saga"
  ORDER=$(call -X POST "$API/users/$ME/orders" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -H "idempotency-key: demo-$ME" -H 'prefer: wait=10' \
    -d "{\"items\":[{\"productId\":\"$PRODUCT\",\"quantity\":1}],\"userCouponId\":\"$USER_COUPON\"}" | jq -r .orderId)
  call "$API/users/$ME/orders/$ORDER" -H "authorization: Bearer $TOKEN" | jq -c '{status, subtotal, discountAmount, totalAmount}'

  step "8. what the wallet says now"
  call "$API/users/$ME/balance" -H "authorization: Bearer $TOKEN" | jq -c .

  step "9. the order's saga timeline"
  call "$API/users/$ME/orders/$ORDER" -H "authorization: Bearer $TOKEN" | jq -r '.timeline[] | "\(.at)  \(.step)  \(.status)"'
)
