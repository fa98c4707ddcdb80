import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

export default defineConfig({
  schema: "prisma/schema.prisma",
  experimental: { adapter: true },
  engine: "js",
  adapter: async () => {
    const url = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/ecommerce?schema=wallet");
    const schema = url.searchParams.get("schema") ?? "public";
    return new PrismaPg({
      host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1),
      options: `-c search_path="${schema}"`,
    }, { schema });
  },
});
