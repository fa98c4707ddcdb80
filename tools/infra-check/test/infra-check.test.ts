import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadInfraCheckConfig } from "../src/config.ts";
import { checkInfra, formatFinding, OPERATOR_SUPPLIED_ANNOTATION } from "../src/index.ts";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));
const config = loadInfraCheckConfig();
const kubectl = { command: config.KUBECTL, path: config.PATH };

/** A copy of the deployment files (infra/ and the Dockerfile) in a temporary root, to plant mistakes in. */
function copyOfTheTree(): string {
  const root = mkdtempSync(path.join(tmpdir(), "infra-check-test-"));
  cpSync(path.join(repositoryRoot, "infra"), path.join(root, "infra"), { recursive: true, filter: (source) => !source.includes(`${path.sep}.`) });
  cpSync(path.join(repositoryRoot, "Dockerfile"), path.join(root, "Dockerfile"));
  return root;
}

/** Replaces `from` (which must occur) in one file of the copy. */
function plant(root: string, file: string, from: string | RegExp, to: string): void {
  const target = path.join(root, file);
  const text = readFileSync(target, "utf8");
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`nothing to replace in ${file}: ${String(from)}`);
  writeFileSync(target, changed);
}

async function problems(root: string): Promise<string[]> {
  return (await checkInfra({ root, kubectl })).findings.map(formatFinding);
}

const roots: string[] = [];
function freshCopy(): string {
  const root = copyOfTheTree();
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

test("the repository's deployment files pass", async () => {
  const report = await checkInfra({ root: repositoryRoot, kubectl });
  expect(report.findings.map(formatFinding)).toEqual([]);
  expect(report.counted.kubernetesObjects).toBeGreaterThan(20);
  expect(report.counted.composeServices).toBeGreaterThan(10);
  expect(report.counted.dockerfileStages).toBeGreaterThan(1);
});

test("the command exits 0 on the repository and 1 with the findings on a broken copy", () => {
  const cli = path.join(repositoryRoot, "tools/infra-check/src/cli.ts");
  const run = (root: string) => spawnSync(process.execPath, ["--import", "tsx", cli, root], { cwd: repositoryRoot, encoding: "utf8" });
  const ok = run(repositoryRoot);
  expect(ok.stdout).toContain("infra:check: ok");
  expect(ok.status).toBe(0);

  const root = freshCopy();
  plant(root, "Dockerfile", /^/, "# syntax=docker/dockerfile:1\n");
  const broken = run(root);
  expect(broken.status).toBe(1);
  expect(broken.stderr).toContain("[dockerfile] Dockerfile:1");
  expect(broken.stderr).toMatch(/infra:check: 1 problem/);
});

describe("Kubernetes manifests", () => {
  test("a Service whose selector matches no pod", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/catalog.yaml", /(kind: Service[\s\S]*?selector:\n\s+app.kubernetes.io\/name: )catalog/, "$1catalogue");
    expect(await problems(root)).toContainEqual(expect.stringMatching(/^\[k8s\] Service\/catalog: selector .*"catalogue".* matches no pod template/));
  });

  test("a Service port that targets a port no container declares", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/wallet.yaml", "targetPort: http", "targetPort: web");
    expect(await problems(root)).toContainEqual(
      expect.stringMatching(/^\[k8s\] Service\/wallet: port http targets "web", which no container of Deployment\/wallet declares/),
    );
  });

  test("a secret key that the Secret does not have", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/order.yaml", "key: ORDER_DATABASE_URL", "key: ORDERS_DATABASE_URL");
    expect(await problems(root)).toContainEqual(
      expect.stringMatching(
        /^\[k8s\] Deployment\/order: .*env DATABASE_URL refers to key "ORDERS_DATABASE_URL" of Secret "shop-secrets", which has no such key/,
      ),
    );
  });

  test("a ConfigMap that no manifest defines, unless documented as supplied by the operator", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/payment.yaml", "name: shop-config", "name: shop-extra-config");
    expect(await problems(root)).toContainEqual(
      expect.stringMatching(/^\[k8s\] Deployment\/payment: container "payment" envFrom refers to ConfigMap "shop-extra-config", which no manifest defines/),
    );

    plant(
      root,
      "infra/k8s/payment.yaml",
      /(kind: Deployment\nmetadata:\n)/,
      `$1  annotations:\n    ${OPERATOR_SUPPLIED_ANNOTATION}: ConfigMap/shop-extra-config\n`,
    );
    expect((await problems(root)).filter((p) => p.includes("shop-extra-config"))).toEqual([]);
  });

  test("a privileged (init) container, a root user, a hostPath volume and host networking", async () => {
    const root = freshCopy();
    plant(
      root,
      "infra/k8s/coupon.yaml",
      "allowPrivilegeEscalation: false",
      "allowPrivilegeEscalation: false\n            privileged: true\n            runAsUser: 0",
    );
    plant(root, "infra/k8s/coupon.yaml", "automountServiceAccountToken: false", "automountServiceAccountToken: false\n      hostNetwork: true");
    plant(root, "infra/k8s/coupon.yaml", /(volumes:\n)/, "$1        - name: docker\n          hostPath:\n            path: /var/run/docker.sock\n");
    const found = await problems(root);
    // The first securityContext in the file is the migration's init container's: checked like the others.
    expect(found).toContainEqual(
      expect.stringMatching(/^\[k8s\] Deployment\/coupon init container "migrate": securityContext.privileged must not be true \(Pod Security "restricted"\)/),
    );
    expect(found).toContainEqual(expect.stringMatching(/^\[k8s\] Deployment\/coupon init container "migrate": securityContext.runAsUser must not be 0/));
    expect(found).toContainEqual(
      expect.stringMatching(/^\[k8s\] Deployment\/coupon: volume "docker" is of type hostPath, which Pod Security "restricted" forbids/),
    );
    expect(found).toContainEqual(expect.stringMatching(/^\[k8s\] Deployment\/coupon: spec.hostNetwork must not be true/));
  });

  test("a container that may escalate privileges, keeps its capabilities and has no seccomp profile", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/gateway.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true");
    plant(root, "infra/k8s/gateway.yaml", 'drop: ["ALL"]', 'drop: ["NET_RAW"]\n              add: ["SYS_ADMIN"]');
    plant(root, "infra/k8s/gateway.yaml", /\n\s+seccompProfile:\n\s+type: RuntimeDefault/, "");
    const found = await problems(root);
    for (const message of [
      "allowPrivilegeEscalation must be false",
      "capabilities.drop must include ALL",
      "capability SYS_ADMIN may not be added",
      "seccompProfile.type must be RuntimeDefault or Localhost",
    ]) {
      expect(found.filter((p) => p.startsWith('[k8s] Deployment/gateway container "gateway": ') && p.includes(message))).toHaveLength(1);
    }
  });

  test("an object that does not match its schema, and a kind that does not exist", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/wallet.yaml", "containerPort: 3001", 'containerPort: "3001"');
    plant(root, "infra/k8s/namespace.yaml", "kind: Namespace", "kind: Namespaces");
    const found = await problems(root);
    expect(found).toContainEqual("[k8s] Deployment/wallet: /spec/template/spec/containers/0/ports/0/containerPort must be integer (Deployment schema)");
    expect(found).toContainEqual(expect.stringMatching(/^\[k8s\] Namespaces\/shop: no schema known for v1 Namespaces/));
  });

  test("a PodDisruptionBudget and an autoscaler that target nothing", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/catalog.yaml", /(kind: PodDisruptionBudget[\s\S]*?matchLabels:\n\s+app.kubernetes.io\/name: )catalog/, "$1katalog");
    plant(root, "infra/k8s/order.yaml", /(scaleTargetRef:[\s\S]*?name: )order/, "$1orders");
    const found = await problems(root);
    expect(found).toContainEqual("[k8s] PodDisruptionBudget/catalog: selector matches no pod template in namespace shop: the budget protects nothing");
    expect(found).toContainEqual("[k8s] Deployment/catalog: no PodDisruptionBudget selects its pods (project rule: one per Deployment)");
    expect(found).toContainEqual("[k8s] HorizontalPodAutoscaler/order: scaleTargetRef apps/v1 Deployment/orders does not exist in namespace shop");
  });

  test("a budget that would block every drain", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/payment.yaml", "minAvailable: 1", "minAvailable: 2");
    expect(await problems(root)).toContainEqual(
      expect.stringMatching(/^\[k8s\] PodDisruptionBudget\/payment: minAvailable 2 is not below the 2 replica\(s\) of Deployment\/payment/),
    );
  });

  test("manifests that kustomize cannot render", async () => {
    const root = freshCopy();
    plant(root, "infra/k8s/kustomization.yaml", "  - payment.yaml\n", "  - payments.yaml\n");
    expect(await problems(root)).toContainEqual(expect.stringMatching(/^\[k8s\] infra\/k8s: kubectl kustomize failed: .*payments\.yaml/));
  });
});

describe("Compose file", () => {
  test("depends_on a service that does not exist, and on the health of one without a healthcheck", async () => {
    const root = freshCopy();
    plant(
      root,
      "infra/docker-compose.yml",
      /(\n {2}order:[\s\S]*?\n {6}catalog:\n {8}condition: service_healthy)/,
      "$1\n      inventory:\n        condition: service_started",
    );
    plant(root, "infra/docker-compose.yml", /(\n {2}gateway:[\s\S]*?depends_on:\n)/, "$1      migrate-wallet:\n        condition: service_healthy\n");
    const found = await problems(root);
    expect(found).toContainEqual('[compose] docker-compose.yml service "order": depends_on "inventory", which is not a service of this file');
    expect(found).toContainEqual(
      expect.stringMatching(
        /^\[compose\] docker-compose.yml service "gateway": waits for "migrate-wallet" to be healthy, but "migrate-wallet" has no healthcheck/,
      ),
    );
  });

  test("a malformed environment, healthcheck and an undeclared volume", async () => {
    const root = freshCopy();
    plant(root, "infra/docker-compose.yml", 'PORT: "3005"', 'PORT: ["3005"]');
    plant(root, "infra/docker-compose.yml", "retries: 6", "retries: 6\n    intervall: 10s");
    plant(root, "infra/docker-compose.yml", "redis-data:/data", "redis-store:/data");
    const found = await problems(root);
    expect(found).toContainEqual('[compose] docker-compose.yml service "payment": environment PORT must be a string, number or boolean, not a list');
    expect(found).toContainEqual(expect.stringMatching(/service "wallet": healthcheck has unknown key "intervall"/));
    expect(found).toContainEqual('[compose] docker-compose.yml service "redis": volume "redis-store" is not declared under top-level volumes');
  });

  test("Compose v2 features without the documentation saying Compose v2 is needed", async () => {
    const root = freshCopy();
    plant(root, "infra/README.md", /compose v2/gi, "Compose");
    expect(await problems(root)).toContainEqual(
      expect.stringMatching(/^\[compose\] docker-compose.yml: uses Compose v2 features .* infra\/README.md does not say Compose v2 is needed/),
    );
  });
});

describe("Dockerfile", () => {
  test("a syntax directive, an unpinned base, root, no HEALTHCHECK and a shell-form CMD", async () => {
    const root = freshCopy();
    plant(root, "Dockerfile", /^/, "# syntax=docker/dockerfile:1\n");
    plant(root, "Dockerfile", "ARG NODE_IMAGE=node:24-slim", "ARG NODE_IMAGE=node");
    plant(root, "Dockerfile", "USER node", "USER root");
    plant(root, "Dockerfile", /HEALTHCHECK [^\n]*\\\n[^\n]*\n/, "");
    plant(root, "Dockerfile", 'CMD ["node", "dist/main.js"]', "CMD node dist/main.js");
    const found = await problems(root);
    expect(found).toContainEqual(
      expect.stringMatching(/^\[dockerfile\] Dockerfile:1: "# syntax=docker\/dockerfile:1" makes BuildKit pull a frontend image from Docker Hub/),
    );
    expect(found).toContainEqual(expect.stringMatching(/^\[dockerfile\] Dockerfile:\d+: ARG NODE_IMAGE=node is not pinned to a tag or digest/));
    expect(found).toContainEqual(
      expect.stringMatching(/^\[dockerfile\] Dockerfile final stage \(line \d+\): USER root: the container must run as a non-root user/),
    );
    expect(found).toContainEqual(expect.stringMatching(/^\[dockerfile\] Dockerfile final stage \(line \d+\): has no HEALTHCHECK/));
    expect(found).toContainEqual(expect.stringMatching(/^\[dockerfile\] Dockerfile:\d+: CMD in shell form/));
  });

  test("a base image written in FROM, and a build arg used in a stage that does not declare it", async () => {
    const root = freshCopy();
    plant(root, "Dockerfile", "FROM ${NODE_IMAGE} AS base", "FROM node:24-slim AS base");
    plant(root, "Dockerfile", /(FROM deps AS build\nCOPY \. \/app\/\n)ARG SERVICE\n/, "$1");
    const found = await problems(root);
    expect(found).toContainEqual(expect.stringMatching(/^\[dockerfile\] Dockerfile:\d+: base image node:24-slim is written in the FROM line/));
    expect(found).toContainEqual(expect.stringMatching(/^\[dockerfile\] Dockerfile:\d+: uses \$\{SERVICE\}, a build arg that this stage does not declare/));
  });
});
