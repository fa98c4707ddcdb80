import { z } from "zod";
import { loadConfig } from "@shop/config";

export const infraCheckConfigSchema = z.object({
  /** The kubectl that renders infra/k8s (kustomize is built into kubectl 1.14+). */
  KUBECTL: z.string().min(1).default("kubectl"),
  /** Where kubectl is looked up; the rest of the environment is not passed to it. */
  PATH: z.string().default("/usr/local/bin:/usr/bin:/bin"),
});

export type InfraCheckConfig = z.infer<typeof infraCheckConfigSchema>;

export const loadInfraCheckConfig = (env: Record<string, string | undefined> = process.env): InfraCheckConfig => loadConfig(infraCheckConfigSchema, env);
