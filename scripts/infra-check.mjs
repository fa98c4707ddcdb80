// `npm run infra:check`: offline checks of the deployment files (tools/infra-check): the Kubernetes
// manifests rendered by kustomize, the Compose file and the Dockerfile. Needs kubectl, nothing else.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const result = spawnSync(process.execPath, ["--import", "tsx", "tools/infra-check/src/cli.ts", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
process.exit(result.status ?? 1);
