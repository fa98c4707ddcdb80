import { defineConfig } from "prisma/config";
import { prismaCliAdapter } from "@shop/prisma-kit";

export default defineConfig({
  schema: "prisma/schema.prisma",
  experimental: { adapter: true },
  engine: "js",
  adapter: async () => prismaCliAdapter("coupon"),
});
