import type { FindingList } from "./findings.ts";
import { objectName, type K8sObject } from "./kustomize.ts";

interface ValidationError {
  instancePath?: string;
  message?: string;
}
type ModelClass = { prototype: { validate(): void } };

/** `apps/v1` + `Deployment` → `kubernetes-models/apps/v1/Deployment` (the core group is `v1`). */
function modelModule(apiVersion: string, kind: string): string | undefined {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

async function loadModel(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const specifier = modelModule(apiVersion, kind);
  if (!specifier) return undefined;
  try {
    const module = (await import(specifier)) as Record<string, ModelClass | undefined>;
    return module[kind];
  } catch {
    return undefined;
  }
}

/**
 * Each object against the Kubernetes OpenAPI schema of its kind (kubernetes-models: types,
 * required fields, formats, enums). The schemas allow unknown fields, so a misspelt key is not
 * caught here; the API server's strict field validation would refuse it.
 */
export async function checkSchemas(objects: K8sObject[], findings: FindingList): Promise<void> {
  for (const object of objects) {
    if (typeof object !== "object" || !object.apiVersion || !object.kind) {
      findings.add("(rendered object)", "has no apiVersion or kind");
      continue;
    }
    if (!object.metadata?.name) findings.add(objectName(object), "metadata.name is missing");
    const model = await loadModel(object.apiVersion, object.kind);
    if (!model) {
      findings.add(objectName(object), `no schema known for ${object.apiVersion} ${object.kind} (a typo, or an API version Kubernetes no longer serves)`);
      continue;
    }
    try {
      model.prototype.validate.call(object);
    } catch (error) {
      const errors = (error as { errors?: ValidationError[] }).errors ?? [];
      if (errors.length === 0) findings.add(objectName(object), `does not match the ${object.kind} schema: ${(error as Error).message}`);
      for (const e of errors) findings.add(objectName(object), `${e.instancePath || "/"} ${e.message ?? "is invalid"} (${object.kind} schema)`);
    }
  }
}
