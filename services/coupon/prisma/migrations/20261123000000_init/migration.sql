-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "discount_type" AS ENUM ('FIXED', 'PERCENT');

-- CreateEnum
CREATE TYPE "user_coupon_status" AS ENUM ('AVAILABLE', 'RESERVED', 'USED');

-- CreateEnum
CREATE TYPE "reservation_status" AS ENUM ('RESERVED', 'CONFIRMED', 'USED', 'RELEASED', 'LAPSED', 'CANCELLED');

-- CreateTable
CREATE TABLE "coupons" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "discount_type" "discount_type" NOT NULL,
    "discount_value" INTEGER NOT NULL,
    "max_discount_amount" BIGINT,
    "min_order_amount" BIGINT NOT NULL DEFAULT 0,
    "total_quantity" INTEGER NOT NULL,
    "issued_quantity" INTEGER NOT NULL DEFAULT 0,
    "issue_starts_at" TIMESTAMPTZ(3) NOT NULL,
    "issue_ends_at" TIMESTAMPTZ(3),
    "valid_for_days" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "coupons_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "user_coupons" (
    "id" UUID NOT NULL,
    "coupon_id" UUID NOT NULL,
    "user_id" TEXT NOT NULL,
    "status" "user_coupon_status" NOT NULL DEFAULT 'AVAILABLE',
    "order_id" TEXT,
    "issued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_coupons_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "coupon_reservations" (
    "order_id" TEXT NOT NULL,
    "user_coupon_id" UUID,
    "user_id" TEXT NOT NULL,
    "status" "reservation_status" NOT NULL,
    "discount_amount" BIGINT NOT NULL DEFAULT 0,
    "reserved_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "coupon_reservations_pkey" PRIMARY KEY ("order_id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "id" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox_events" (
    "event_id" UUID NOT NULL,
    "consumer" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_events_pkey" PRIMARY KEY ("event_id","consumer")
);

-- CreateIndex
CREATE INDEX "coupons_issue_starts_at_idx" ON "coupons"("issue_starts_at");

-- CreateIndex
CREATE INDEX "user_coupons_user_id_issued_at_idx" ON "user_coupons"("user_id", "issued_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "user_coupons_coupon_id_user_id_key" ON "user_coupons"("coupon_id", "user_id");

-- CreateIndex
CREATE INDEX "coupon_reservations_status_reserved_at_idx" ON "coupon_reservations"("status", "reserved_at");

-- CreateIndex
CREATE INDEX "coupon_reservations_user_coupon_id_idx" ON "coupon_reservations"("user_coupon_id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_events_event_id_key" ON "outbox_events"("event_id");

-- AddForeignKey
ALTER TABLE "user_coupons" ADD CONSTRAINT "user_coupons_coupon_id_fkey" FOREIGN KEY ("coupon_id") REFERENCES "coupons"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

