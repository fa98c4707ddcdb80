// The optional KEDA overlay (infra/k8s-keda): every service Deployment is scaled by exactly one
// autoscaler (a ScaledObject on consumer lag and CPU, or the gateway's CPU HPA), each ScaledObject
// targets a Deployment that exists, and its consumer group is the one the service joins.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadInfraCheckConfig } from "../src/config.ts";
import { renderKustomization, type K8sObject } from "../src/kustomize.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const config = loadInfraCheckConfig();
const kubectl = { command: config.KUBECTL, path: config.PATH };

type ScaledObject = K8sObject & { spec: { scaleTargetRef: { kind?: string; name: string }; triggers: { type: string; metadata: Record<string, string> }[] } };
type Autoscaler = K8sObject & { spec: { scaleTargetRef: { name: string } } };

test("Given the KEDA overlay, when rendered, then each Deployment has one autoscaler and each ScaledObject reads its service's consumer group", () => {
  const rendered = renderKustomization(path.join(root, "infra", "k8s-keda"), kubectl);
  if ("error" in rendered) throw new Error(rendered.error);
  const deployments = rendered.objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata.name);
  const scalers = rendered.objects.filter((o): o is Autoscaler => o.kind === "ScaledObject" || o.kind === "HorizontalPodAutoscaler");
  const targets = scalers.map((s) => s.spec.scaleTargetRef.name).sort();
  expect(targets).toEqual([...deployments].sort());

  const prefix = (rendered.objects.find((o) => o.kind === "ConfigMap") as K8sObject & { data: Record<string, string> }).data.TOPIC_PREFIX ?? "";
  const scaledObjects = rendered.objects.filter((o): o is ScaledObject => o.kind === "ScaledObject");
  expect(scaledObjects.map((s) => s.metadata.name).sort()).toEqual(["catalog", "coupon", "order", "payment", "wallet"]);
  for (const scaled of scaledObjects) {
    const kafka = scaled.spec.triggers.find((t) => t.type === "kafka");
    expect({ service: scaled.metadata.name, group: kafka?.metadata.consumerGroup }).toEqual({
      service: scaled.metadata.name,
      group: `${prefix}${scaled.spec.scaleTargetRef.name}`,
    });
    expect(scaled.spec.triggers.map((t) => t.type)).toContain("cpu");
  }
});
