import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import { objectName, type K8sObject } from "./kustomize.ts";

/** A pod template found in a workload, with where it came from. */
export interface PodTemplate {
  owner: K8sObject;
  namespace: string | undefined;
  labels: Record<string, string>;
  spec: IPodSpec;
}

interface WithSpec {
  spec?: {
    template?: { metadata?: { labels?: Record<string, string> }; spec?: IPodSpec };
    jobTemplate?: { spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: IPodSpec } } };
  };
}

const TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]);

/** The pod templates of every workload kind (and bare Pods), so the pod checks see every pod that can run. */
export function podTemplates(objects: K8sObject[]): PodTemplate[] {
  const templates: PodTemplate[] = [];
  for (const object of objects) {
    const spec = (object as WithSpec).spec;
    let template: { metadata?: { labels?: Record<string, string> }; spec?: IPodSpec } | undefined;
    if (TEMPLATE_KINDS.has(object.kind)) template = spec?.template;
    else if (object.kind === "CronJob") template = spec?.jobTemplate?.spec?.template;
    else if (object.kind === "Pod") template = { metadata: object.metadata, spec: object.spec as IPodSpec };
    if (template?.spec) templates.push({ owner: object, namespace: object.metadata.namespace, labels: template.metadata?.labels ?? {}, spec: template.spec });
  }
  return templates;
}

/** Every container that runs in the pod, init and ephemeral ones included, with a label for messages. */
export function allContainers(spec: IPodSpec): { label: string; container: IContainer }[] {
  return [
    ...(spec.initContainers ?? []).map((container) => ({ label: `init container "${container.name}"`, container })),
    ...(spec.containers ?? []).map((container) => ({ label: `container "${container.name}"`, container })),
    ...(spec.ephemeralContainers ?? []).map((container) => ({ label: `ephemeral container "${container.name}"`, container })),
  ];
}

export const templateName = (t: PodTemplate): string => objectName(t.owner);

/** A label selector's matchLabels and matchExpressions against a label set (an empty selector matches everything). */
export function selectorMatches(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    if (e.operator === "In" && !inValues) return false;
    if (e.operator === "NotIn" && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** A Service's plain `selector` map. */
export const mapSelectorMatches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
