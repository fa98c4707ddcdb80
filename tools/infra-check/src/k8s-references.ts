import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IService } from "kubernetes-models/v1/Service";
import type { FindingList } from "./findings.ts";
import { objectName, type K8sObject } from "./kustomize.ts";
import { allContainers, mapSelectorMatches, podTemplates, selectorMatches, templateName, type PodTemplate } from "./workloads.ts";

/**
 * References a workload may make to a Secret or ConfigMap that the manifests do not contain
 * because the operator creates it (e.g. a TLS secret from cert-manager): a comma-separated list of
 * `Secret/<name>` (the whole object) or `Secret/<name>:<KEY>`, same for `ConfigMap/…`.
 */
export const OPERATOR_SUPPLIED_ANNOTATION = "infra-check.shop.example/operator-supplied";

const nsOf = (o: K8sObject): string => o.metadata.namespace ?? "default";
const keyOf = (namespace: string, kind: string, name: string): string => `${namespace}/${kind}/${name}`;

interface Index {
  byKey: Map<string, K8sObject>;
  templates: PodTemplate[];
}

function buildIndex(objects: K8sObject[]): Index {
  return { byKey: new Map(objects.map((o) => [keyOf(nsOf(o), o.kind, o.metadata.name), o])), templates: podTemplates(objects) };
}

const templatesIn = (index: Index, namespace: string): PodTemplate[] => index.templates.filter((t) => (t.namespace ?? "default") === namespace);

/** Does some container of the pod expose this port (a number, or a port name)? */
function podHasPort(template: PodTemplate, port: number | string): boolean {
  return allContainers(template.spec).some(({ container }) =>
    (container.ports ?? []).some((p) => (typeof port === "number" ? p.containerPort === port : p.name === port)),
  );
}

/** Cross-references that `kubectl apply` accepts but that leave a Service without endpoints, a pod that cannot start, a PDB or HPA acting on nothing. */
export function checkReferences(objects: K8sObject[], findings: FindingList): void {
  const index = buildIndex(objects);
  checkServices(objects, index, findings);
  checkConfigReferences(index, findings);
  checkProbePorts(index, findings);
  checkDisruptionBudgets(objects, index, findings);
  checkAutoscalers(objects, index, findings);
  checkNetworkPolicies(objects, index, findings);
  checkIngresses(objects, index, findings);
}

function checkServices(objects: K8sObject[], index: Index, findings: FindingList): void {
  for (const service of objects.filter((o) => o.kind === "Service") as (K8sObject & IService)[]) {
    const selector = service.spec?.selector;
    if (!selector || service.spec?.type === "ExternalName") continue;
    const where = objectName(service);
    const matching = templatesIn(index, nsOf(service)).filter((t) => mapSelectorMatches(selector, t.labels));
    if (matching.length === 0) {
      findings.add(where, `selector ${JSON.stringify(selector)} matches no pod template in namespace ${nsOf(service)}: the Service would have no endpoints`);
      continue;
    }
    for (const port of service.spec?.ports ?? []) {
      const target = port.targetPort ?? port.port;
      for (const template of matching) {
        if (!podHasPort(template, target))
          findings.add(where, `port ${port.name ?? port.port} targets ${JSON.stringify(target)}, which no container of ${templateName(template)} declares`);
      }
    }
  }
}

function operatorSupplied(owner: K8sObject): Set<string> {
  const value = owner.metadata.annotations?.[OPERATOR_SUPPLIED_ANNOTATION] ?? "";
  return new Set(
    value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

function keysOf(object: K8sObject): Set<string> {
  const fields = object.kind === "Secret" ? ["data", "stringData"] : ["data", "binaryData"];
  return new Set(fields.flatMap((f) => Object.keys((object[f] as Record<string, unknown> | undefined) ?? {})));
}

function checkConfigReferences(index: Index, findings: FindingList): void {
  for (const template of index.templates) {
    const namespace = template.namespace ?? "default";
    const supplied = operatorSupplied(template.owner);
    const where = templateName(template);
    const require = (kind: "Secret" | "ConfigMap", name: string, key: string | undefined, optional: boolean | undefined, usedBy: string) => {
      if (optional || supplied.has(`${kind}/${name}`) || (key !== undefined && supplied.has(`${kind}/${name}:${key}`))) return;
      const target = index.byKey.get(keyOf(namespace, kind, name));
      if (!target) {
        findings.add(
          where,
          `${usedBy} refers to ${kind} "${name}", which no manifest defines (define it, or list it in the ${OPERATOR_SUPPLIED_ANNOTATION} annotation if the operator creates it)`,
        );
      } else if (key !== undefined && !keysOf(target).has(key)) {
        findings.add(where, `${usedBy} refers to key "${key}" of ${kind} "${name}", which has no such key (has: ${[...keysOf(target)].join(", ") || "none"})`);
      }
    };
    for (const { label, container } of allContainers(template.spec)) {
      for (const env of container.env ?? []) {
        const secret = env.valueFrom?.secretKeyRef;
        if (secret) require("Secret", secret.name ?? "", secret.key, secret.optional, `${label} env ${env.name}`);
        const configMap = env.valueFrom?.configMapKeyRef;
        if (configMap) require("ConfigMap", configMap.name ?? "", configMap.key, configMap.optional, `${label} env ${env.name}`);
      }
      for (const source of container.envFrom ?? []) {
        if (source.secretRef) require("Secret", source.secretRef.name ?? "", undefined, source.secretRef.optional, `${label} envFrom`);
        if (source.configMapRef) require("ConfigMap", source.configMapRef.name ?? "", undefined, source.configMapRef.optional, `${label} envFrom`);
      }
    }
    for (const volume of template.spec.volumes ?? []) {
      const usedBy = `volume "${volume.name}"`;
      if (volume.secret) {
        require("Secret", volume.secret.secretName ?? "", undefined, volume.secret.optional, usedBy);
        for (const item of volume.secret.items ?? []) require("Secret", volume.secret.secretName ?? "", item.key, volume.secret.optional, usedBy);
      }
      if (volume.configMap) {
        require("ConfigMap", volume.configMap.name ?? "", undefined, volume.configMap.optional, usedBy);
        for (const item of volume.configMap.items ?? []) require("ConfigMap", volume.configMap.name ?? "", item.key, volume.configMap.optional, usedBy);
      }
      for (const source of volume.projected?.sources ?? []) {
        if (source.secret) require("Secret", source.secret.name ?? "", undefined, source.secret.optional, usedBy);
        if (source.configMap) require("ConfigMap", source.configMap.name ?? "", undefined, source.configMap.optional, usedBy);
      }
    }
  }
}

function checkProbePorts(index: Index, findings: FindingList): void {
  for (const template of index.templates) {
    for (const { label, container } of allContainers(template.spec)) {
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
        const port = container[probe]?.httpGet?.port ?? container[probe]?.tcpSocket?.port;
        if (typeof port === "string" && !(container.ports ?? []).some((p) => p.name === port)) {
          findings.add(`${templateName(template)} ${label}`, `${probe} uses port "${port}", which the container does not name`);
        }
      }
    }
  }
}

/** The replicas a workload runs with at least: its HPA's minReplicas when one targets it, else spec.replicas (default 1). */
function minimumReplicas(owner: K8sObject, objects: K8sObject[]): number {
  const hpa = autoscalerOf(owner, objects);
  if (hpa) return hpa.spec?.minReplicas ?? 1;
  return (owner.spec as { replicas?: number } | undefined)?.replicas ?? 1;
}

const autoscalerOf = (owner: K8sObject, objects: K8sObject[]): IHorizontalPodAutoscaler | undefined =>
  (objects.filter((o) => o.kind === "HorizontalPodAutoscaler") as (K8sObject & IHorizontalPodAutoscaler)[]).find(
    (h) => nsOf(h) === nsOf(owner) && h.spec?.scaleTargetRef.kind === owner.kind && h.spec?.scaleTargetRef.name === owner.metadata.name,
  );

function checkDisruptionBudgets(objects: K8sObject[], index: Index, findings: FindingList): void {
  const budgets = objects.filter((o) => o.kind === "PodDisruptionBudget") as (K8sObject & IPodDisruptionBudget)[];
  for (const pdb of budgets) {
    const where = objectName(pdb);
    const matching = templatesIn(index, nsOf(pdb)).filter((t) => selectorMatches(pdb.spec?.selector, t.labels));
    if (matching.length === 0) {
      findings.add(where, `selector matches no pod template in namespace ${nsOf(pdb)}: the budget protects nothing`);
      continue;
    }
    const minAvailable = pdb.spec?.minAvailable;
    for (const template of matching) {
      const replicas = minimumReplicas(template.owner, objects);
      if (typeof minAvailable === "number" && minAvailable >= replicas) {
        findings.add(
          where,
          `minAvailable ${minAvailable} is not below the ${replicas} replica(s) of ${templateName(template)}: a node drain could never evict one`,
        );
      }
      if (pdb.spec?.maxUnavailable === 0 || pdb.spec?.maxUnavailable === "0%") findings.add(where, `maxUnavailable 0 blocks every node drain`);
    }
  }
  // Project rule: every long-running workload keeps serving through voluntary disruptions.
  for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
    const template = index.templates.find((t) => t.owner === deployment);
    if (template && !budgets.some((pdb) => nsOf(pdb) === nsOf(deployment) && selectorMatches(pdb.spec?.selector, template.labels))) {
      findings.add(objectName(deployment), `no PodDisruptionBudget selects its pods (project rule: one per Deployment)`);
    }
  }
}

function checkAutoscalers(objects: K8sObject[], index: Index, findings: FindingList): void {
  for (const hpa of objects.filter((o) => o.kind === "HorizontalPodAutoscaler") as (K8sObject & IHorizontalPodAutoscaler)[]) {
    const where = objectName(hpa);
    const ref = hpa.spec?.scaleTargetRef;
    if (!ref) continue;
    const target = index.byKey.get(keyOf(nsOf(hpa), ref.kind, ref.name));
    if (!target || (ref.apiVersion && ref.apiVersion !== target.apiVersion)) {
      findings.add(where, `scaleTargetRef ${ref.apiVersion ?? ""} ${ref.kind}/${ref.name} does not exist in namespace ${nsOf(hpa)}`);
      continue;
    }
    const min = hpa.spec?.minReplicas ?? 1;
    if (min > (hpa.spec?.maxReplicas ?? 0)) findings.add(where, `minReplicas ${min} is above maxReplicas ${hpa.spec?.maxReplicas}`);
    const template = index.templates.find((t) => t.owner === target);
    const resources = (hpa.spec?.metrics ?? []).filter((m) => m.type === "Resource" && m.resource).map((m) => m.resource!.name);
    for (const resource of resources) {
      for (const container of template?.spec.containers ?? []) {
        if (container.resources?.requests?.[resource] === undefined)
          findings.add(where, `scales on ${resource} utilisation, but container "${container.name}" of ${objectName(target)} requests no ${resource}`);
      }
    }
    if ((target.spec as { replicas?: number } | undefined)?.replicas !== undefined) {
      findings.add(objectName(target), `sets spec.replicas although ${where} scales it: every apply would reset the autoscaler's count (leave replicas out)`);
    }
  }
  for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
    if (!autoscalerOf(deployment, objects)) findings.add(objectName(deployment), `no HorizontalPodAutoscaler targets it (project rule: one per Deployment)`);
  }
}

function checkNetworkPolicies(objects: K8sObject[], index: Index, findings: FindingList): void {
  for (const policy of objects.filter((o) => o.kind === "NetworkPolicy") as (K8sObject & INetworkPolicy)[]) {
    const selector = policy.spec?.podSelector;
    const selectsAll = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
    const selected = templatesIn(index, nsOf(policy)).filter((t) => selectsAll || selectorMatches(selector, t.labels));
    if (!selectsAll && selected.length === 0) {
      findings.add(objectName(policy), `podSelector matches no pod template in namespace ${nsOf(policy)}: the policy applies to nothing`);
      continue;
    }
    // A named port in an ingress rule resolves per pod: a name that no selected pod declares admits nothing.
    for (const rule of policy.spec?.ingress ?? []) {
      for (const port of rule.ports ?? []) {
        if (typeof port.port === "string" && !selected.some((template) => podHasPort(template, port.port!))) {
          findings.add(objectName(policy), `ingress port "${port.port}" is not a named port of any pod it selects (${selected.map(templateName).join(", ")})`);
        }
      }
    }
  }
}

function checkIngresses(objects: K8sObject[], index: Index, findings: FindingList): void {
  for (const ingress of objects.filter((o) => o.kind === "Ingress") as (K8sObject & IIngress)[]) {
    const backends = [ingress.spec?.defaultBackend, ...(ingress.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend))];
    for (const backend of backends) {
      if (!backend?.service) continue;
      const service = index.byKey.get(keyOf(nsOf(ingress), "Service", backend.service.name)) as (K8sObject & IService) | undefined;
      if (!service) {
        findings.add(objectName(ingress), `backend Service "${backend.service.name}" does not exist in namespace ${nsOf(ingress)}`);
        continue;
      }
      const port = backend.service.port;
      const exists = (service.spec?.ports ?? []).some((p) => (port?.name !== undefined ? p.name === port.name : p.port === port?.number));
      if (!exists) findings.add(objectName(ingress), `backend port ${JSON.stringify(port)} is not a port of Service "${backend.service.name}"`);
    }
  }
}
