import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { checkCompose } from "./compose.ts";
import { checkDockerfile } from "./dockerfile.ts";
import { FindingList, type Finding } from "./findings.ts";
import { checkReferences } from "./k8s-references.ts";
import { checkSchemas } from "./k8s-schema.ts";
import { renderKustomization } from "./kustomize.ts";
import { checkPodSecurity } from "./pod-security.ts";
import { podTemplates } from "./workloads.ts";

export { formatFinding, type Finding } from "./findings.ts";
export { OPERATOR_SUPPLIED_ANNOTATION } from "./k8s-references.ts";

export interface InfraCheckOptions {
  /** The repository root: infra/k8s, infra/docker-compose.yml, infra/README.md and Dockerfile are read from it. */
  root: string;
  kubectl: { command: string; path: string };
}

export interface InfraCheckReport {
  findings: Finding[];
  /** What was looked at, so a passing run says how much it covered. */
  counted: { kubernetesObjects: number; composeServices: number; dockerfileStages: number };
}

export async function checkInfra(options: InfraCheckOptions): Promise<InfraCheckReport> {
  const k8s = new FindingList("k8s");
  const compose = new FindingList("compose");
  const dockerfile = new FindingList("dockerfile");
  const counted = { kubernetesObjects: 0, composeServices: 0, dockerfileStages: 0 };

  const rendered = renderKustomization(path.join(options.root, "infra", "k8s"), options.kubectl);
  if ("error" in rendered) {
    k8s.add("infra/k8s", rendered.error);
  } else {
    counted.kubernetesObjects = rendered.objects.length;
    await checkSchemas(rendered.objects, k8s);
    // The other checks read fields by their schema types: only objects that have a kind and a name go on.
    const objects = rendered.objects.filter((o) => o?.kind && o.metadata?.name);
    checkPodSecurity(podTemplates(objects), k8s);
    checkReferences(objects, k8s);
  }

  const composeFile = path.join(options.root, "infra", "docker-compose.yml");
  const readmeFile = path.join(options.root, "infra", "README.md");
  if (existsSync(composeFile))
    counted.composeServices = checkCompose(composeFile, existsSync(readmeFile) ? readFileSync(readmeFile, "utf8") : undefined, compose);
  else compose.add("infra/docker-compose.yml", "not found");

  const dockerfileFile = path.join(options.root, "Dockerfile");
  if (existsSync(dockerfileFile)) counted.dockerfileStages = checkDockerfile(dockerfileFile, dockerfile);
  else dockerfile.add("Dockerfile", "not found");

  return { findings: [...k8s.items, ...compose.items, ...dockerfile.items], counted };
}
