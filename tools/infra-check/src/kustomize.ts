import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";

/** What every rendered object has; the rest is read through the kubernetes-models types once the schema check passed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export type RenderResult = { objects: K8sObject[] } | { error: string };

/**
 * `kubectl kustomize <dir>`: renders offline. KUBECONFIG points at a file that does not exist so
 * that nothing kubectl does can reach a cluster (without one it would try 127.0.0.1:8080).
 */
export function renderKustomization(dir: string, kubectl: { command: string; path: string }): RenderResult {
  const scratch = mkdtempSync(path.join(tmpdir(), "infra-check-"));
  try {
    const result = spawnSync(kubectl.command, ["kustomize", dir], {
      encoding: "utf8",
      timeout: 30_000,
      env: { PATH: kubectl.path, HOME: scratch, KUBECONFIG: path.join(scratch, "no-kubeconfig") },
    });
    if (result.error)
      return { error: `could not run ${kubectl.command} (${result.error.message}); install kubectl 1.27+ (kustomize is built in) or set KUBECTL` };
    if (result.status !== 0) return { error: `kubectl kustomize failed: ${result.stderr.trim()}` };
    const objects: K8sObject[] = [];
    for (const doc of parseAllDocuments(result.stdout)) {
      if (doc.errors.length) return { error: `kubectl kustomize printed YAML that does not parse: ${doc.errors[0]!.message}` };
      const value: unknown = doc.toJS();
      if (value !== null) objects.push(value as K8sObject);
    }
    return { objects };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const objectName = (o: K8sObject): string => `${o.kind}/${o.metadata?.name ?? "(unnamed)"}`;
