// npm run infra:check: offline checks of infra/k8s, infra/docker-compose.yml and the Dockerfile; exits 1 on a finding.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadInfraCheckConfig } from "./config.ts";
import { checkInfra, formatFinding } from "./index.ts";

const config = loadInfraCheckConfig();
const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", ".."));
const started = performance.now();
const { findings, counted } = await checkInfra({ root, kubectl: { command: config.KUBECTL, path: config.PATH } });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const scope = `${counted.kubernetesObjects} Kubernetes objects, ${counted.composeServices} Compose services, ${counted.dockerfileStages} Dockerfile stages`;
if (findings.length === 0) {
  console.log(`infra:check: ok (${scope}; ${seconds} s)`);
} else {
  for (const finding of findings) console.error(`✗ ${formatFinding(finding)}`);
  console.error(`infra:check: ${findings.length} problem(s) (${scope}; ${seconds} s)`);
  process.exitCode = 1;
}
