import type { DatabaseLocation } from "@shop/config";
import { prismaAdapter } from "@shop/prisma-kit";
import { PrismaClient } from "./generated/prisma/client.ts";

export type { PrismaClient };

export function createPrismaClient(db: DatabaseLocation, poolSize: number): PrismaClient {
  return new PrismaClient({ adapter: prismaAdapter(db, poolSize) });
}
