import { z } from "zod";
import { baseConfigSchema, loadConfig } from "@shop/config";

export const sinkConfigSchema = baseConfigSchema.extend({
  /** The data platform's own store; in this reference it is a schema of the shop's PostgreSQL. */
  SINK_DATABASE_URL: z.string().default("postgresql://postgres@127.0.0.1:5432/ecommerce?schema=data_platform"),
  /** The consumer group; a data team picks its own so it reads the topic independently. */
  SINK_GROUP_ID: z.string().min(1).default("data-platform-sink"),
});

export type SinkConfig = z.infer<typeof sinkConfigSchema>;
export const loadSinkConfig = (env: Record<string, string | undefined> = process.env): SinkConfig => loadConfig(sinkConfigSchema, env);
