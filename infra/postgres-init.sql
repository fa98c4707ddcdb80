-- Run once by the postgres image when it initialises an empty data directory (docker-compose.yml).
-- ecommerce: one schema per service (wallet, catalog, coupon, orders, payment), each created and
-- filled by its service's `prisma migrate deploy` (the migrate-<service> jobs);
-- schema_registry: the storage of Apicurio Registry (its tables are created at its first start).
CREATE DATABASE ecommerce;
CREATE DATABASE schema_registry;
