import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import type { FindingList } from "./findings.ts";

// The compose specification's top-level and service keys (https://github.com/compose-spec/compose-spec);
// anything else, bar `x-` extensions, is a typo that Compose would refuse or, worse, ignore.
const TOP_LEVEL_KEYS = new Set(["version", "name", "include", "services", "networks", "volumes", "configs", "secrets", "models"]);
const SERVICE_KEYS = new Set(
  (
    "annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count cpu_percent cpu_period " +
    "cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec depends_on deploy develop device_cgroup_rules devices dns dns_opt " +
    "dns_search domainname entrypoint env_file environment expose extends external_links extra_hosts gpus group_add healthcheck hostname image init " +
    "ipc isolation label_file labels links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit models network_mode networks " +
    "oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_stop privileged profiles provider pull_policy read_only restart " +
    "runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user " +
    "userns_mode uts volumes volumes_from working_dir"
  ).split(" "),
);
const HEALTHCHECK_KEYS = new Set(["test", "interval", "timeout", "start_period", "start_interval", "retries", "disable"]);
const DEPENDS_ON_CONDITIONS = new Set(["service_started", "service_healthy", "service_completed_successfully"]);
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/;
// ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}; $$ escapes.
const INTERPOLATION = /\$\{([^}]*)\}/g;
const INTERPOLATION_BODY = /^[A-Za-z_][A-Za-z0-9_]*((:?[-?+]).*)?$/s;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Service = Record<string, Json>;

const isMap = (value: unknown): value is Record<string, Json> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The Compose file, structurally: what `docker compose config` would refuse or quietly get wrong,
 * without Docker. Also: a file using Compose v2 features (top-level `name`, start conditions) must
 * be documented as needing Compose v2 in infra/README.md, since v1 rejects it.
 */
export function checkCompose(file: string, readme: string | undefined, findings: FindingList): number {
  const where = path.basename(file);
  const doc = parseDocument(readFileSync(file, "utf8"), { merge: true, uniqueKeys: true });
  for (const error of doc.errors) findings.add(where, `YAML: ${error.message}`);
  if (doc.errors.length) return 0;
  const compose: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (!isMap(compose)) {
    findings.add(where, "is not a YAML mapping");
    return 0;
  }
  for (const key of Object.keys(compose)) {
    if (!TOP_LEVEL_KEYS.has(key) && !key.startsWith("x-")) findings.add(where, `unknown top-level key "${key}"`);
  }
  if (compose.version !== undefined) findings.add(where, `top-level "version" is obsolete in Compose v2 (it warns); leave it out`);
  checkInterpolation(compose, where, findings);

  const services = isMap(compose.services) ? compose.services : {};
  if (Object.keys(services).length === 0) findings.add(where, "defines no services");
  const volumes = new Set(Object.keys(isMap(compose.volumes) ? compose.volumes : {}));
  const networks = new Set(["default", ...Object.keys(isMap(compose.networks) ? compose.networks : {})]);
  const composeDir = path.dirname(file);
  let usesV2Features = compose.name !== undefined;

  for (const [name, value] of Object.entries(services)) {
    const at = `${where} service "${name}"`;
    if (!isMap(value)) {
      findings.add(at, "is not a mapping");
      continue;
    }
    const service: Service = value;
    for (const key of Object.keys(service)) {
      if (!SERVICE_KEYS.has(key) && !key.startsWith("x-")) findings.add(at, `unknown key "${key}"`);
    }
    if (service.image === undefined && service.build === undefined) findings.add(at, "has neither image nor build");
    checkEnvironment(service.environment, at, findings);
    checkHealthcheck(service.healthcheck, at, findings);
    usesV2Features = checkDependsOn(service.depends_on, services, at, findings) || usesV2Features;
    checkVolumes(service.volumes, volumes, composeDir, at, findings);
    checkBuild(service.build, composeDir, at, findings);
    const serviceNetworks = Array.isArray(service.networks) ? service.networks : Object.keys(isMap(service.networks) ? service.networks : {});
    for (const network of serviceNetworks)
      if (typeof network === "string" && !networks.has(network)) findings.add(at, `network "${network}" is not declared under top-level networks`);
    // The same hardening the Kubernetes manifests enforce.
    if (service.privileged === true) findings.add(at, "privileged: true (the system needs no privileged container)");
    if (service.network_mode === "host") findings.add(at, "network_mode: host bypasses the compose network");
  }

  if (usesV2Features && !/compose v2/i.test(readme ?? "")) {
    findings.add(where, `uses Compose v2 features (top-level "name", depends_on conditions) but infra/README.md does not say Compose v2 is needed`);
  }
  return Object.keys(services).length;
}

function checkInterpolation(value: Json | undefined, where: string, findings: FindingList): void {
  if (typeof value === "string") {
    const unescaped = value.replaceAll("$$", "");
    for (const match of unescaped.matchAll(INTERPOLATION)) {
      if (!INTERPOLATION_BODY.test(match[1]!)) findings.add(where, `malformed variable reference "${match[0]}"`);
    }
    if (/\$\{[^}]*$/.test(unescaped)) findings.add(where, `unterminated variable reference in "${value}"`);
  } else if (Array.isArray(value)) {
    for (const item of value) checkInterpolation(item, where, findings);
  } else if (isMap(value)) {
    for (const item of Object.values(value)) checkInterpolation(item, where, findings);
  }
}

function checkEnvironment(environment: Json | undefined, at: string, findings: FindingList): void {
  if (environment === undefined || environment === null) return;
  if (Array.isArray(environment)) {
    const seen = new Set<string>();
    for (const entry of environment) {
      if (typeof entry !== "string" || !/^[A-Za-z_][A-Za-z0-9_.]*(=|$)/.test(entry)) {
        findings.add(at, `environment entry ${JSON.stringify(entry)} is not KEY=VALUE`);
        continue;
      }
      const key = entry.split("=")[0]!;
      if (seen.has(key)) findings.add(at, `environment sets ${key} twice`);
      seen.add(key);
    }
    return;
  }
  if (!isMap(environment)) {
    findings.add(at, "environment must be a mapping or a list");
    return;
  }
  for (const [key, value] of Object.entries(environment)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key)) findings.add(at, `environment key "${key}" is not a variable name`);
    if (value !== null && typeof value === "object")
      findings.add(at, `environment ${key} must be a string, number or boolean, not ${Array.isArray(value) ? "a list" : "a mapping"}`);
  }
}

function checkHealthcheck(healthcheck: Json | undefined, at: string, findings: FindingList): void {
  if (healthcheck === undefined) return;
  if (!isMap(healthcheck)) {
    findings.add(at, "healthcheck must be a mapping");
    return;
  }
  for (const key of Object.keys(healthcheck)) if (!HEALTHCHECK_KEYS.has(key)) findings.add(at, `healthcheck has unknown key "${key}"`);
  if (healthcheck.disable === true) return;
  const test = healthcheck.test;
  if (Array.isArray(test)) {
    if (typeof test[0] !== "string" || !["CMD", "CMD-SHELL", "NONE"].includes(test[0]))
      findings.add(at, `healthcheck.test must start with CMD, CMD-SHELL or NONE (got ${JSON.stringify(test[0])})`);
    if (test[0] !== "NONE" && test.length < 2) findings.add(at, "healthcheck.test has no command");
  } else if (typeof test !== "string") {
    findings.add(at, "healthcheck.test is missing");
  }
  for (const key of ["interval", "timeout", "start_period", "start_interval"]) {
    const value = healthcheck[key];
    if (value !== undefined && (typeof value !== "string" || !DURATION.test(value)))
      findings.add(at, `healthcheck.${key} ${JSON.stringify(value)} is not a duration such as 10s`);
  }
  if (healthcheck.retries !== undefined && !(Number.isInteger(healthcheck.retries) && (healthcheck.retries as number) >= 1))
    findings.add(at, "healthcheck.retries must be a positive integer");
}

const healthcheckDisabled = (service: Json | undefined): boolean => {
  if (!isMap(service) || !isMap(service.healthcheck)) return true;
  const test = service.healthcheck.test;
  return service.healthcheck.disable === true || (Array.isArray(test) && test[0] === "NONE");
};

/** Returns whether the long form with start conditions (Compose v2) is used. */
function checkDependsOn(dependsOn: Json | undefined, services: Record<string, Json>, at: string, findings: FindingList): boolean {
  if (dependsOn === undefined) return false;
  const entries: [string, Json][] = Array.isArray(dependsOn)
    ? dependsOn.map((d) => [typeof d === "string" ? d : JSON.stringify(d), null])
    : isMap(dependsOn)
      ? Object.entries(dependsOn)
      : [];
  if (!Array.isArray(dependsOn) && !isMap(dependsOn)) findings.add(at, "depends_on must be a list or a mapping");
  let conditions = false;
  for (const [dependency, spec] of entries) {
    if (!Object.hasOwn(services, dependency)) {
      findings.add(at, `depends_on "${dependency}", which is not a service of this file`);
      continue;
    }
    if (!isMap(spec)) continue;
    const condition = spec.condition ?? "service_started";
    conditions = true;
    if (typeof condition !== "string" || !DEPENDS_ON_CONDITIONS.has(condition)) {
      findings.add(at, `depends_on "${dependency}" has condition ${JSON.stringify(condition)}; use one of ${[...DEPENDS_ON_CONDITIONS].join(", ")}`);
    } else if (condition === "service_healthy" && healthcheckDisabled(services[dependency])) {
      findings.add(at, `waits for "${dependency}" to be healthy, but "${dependency}" has no healthcheck (or it is disabled): it would never start`);
    } else if (condition === "service_completed_successfully") {
      const target = services[dependency];
      const restart = isMap(target) ? target.restart : undefined;
      if (restart !== undefined && restart !== "no")
        findings.add(at, `waits for "${dependency}" to complete, but "${dependency}" has restart: ${JSON.stringify(restart)}`);
    }
  }
  return conditions;
}

function checkVolumes(serviceVolumes: Json | undefined, declared: Set<string>, composeDir: string, at: string, findings: FindingList): void {
  if (!Array.isArray(serviceVolumes)) return;
  for (const volume of serviceVolumes) {
    const source = typeof volume === "string" ? volume.split(":")[0]! : isMap(volume) && typeof volume.source === "string" ? volume.source : undefined;
    const type = isMap(volume) ? volume.type : undefined;
    if (!source || type === "tmpfs") continue;
    if (source.startsWith(".") || source.startsWith("/") || source.startsWith("~") || type === "bind") {
      if (source.startsWith(".") && !existsSync(path.resolve(composeDir, source)))
        findings.add(at, `bind mount source ${source} does not exist (relative to ${path.basename(composeDir)}/)`);
    } else if (!declared.has(source)) {
      findings.add(at, `volume "${source}" is not declared under top-level volumes`);
    }
  }
}

function checkBuild(build: Json | undefined, composeDir: string, at: string, findings: FindingList): void {
  if (build === undefined) return;
  const context = typeof build === "string" ? build : isMap(build) && typeof build.context === "string" ? build.context : ".";
  if (/^[a-z]+:\/\//.test(context)) return;
  const contextDir = path.resolve(composeDir, context);
  if (!existsSync(contextDir)) {
    findings.add(at, `build context ${context} does not exist`);
    return;
  }
  const dockerfile = isMap(build) && typeof build.dockerfile === "string" ? build.dockerfile : "Dockerfile";
  if (!existsSync(path.resolve(contextDir, dockerfile))) findings.add(at, `build dockerfile ${dockerfile} does not exist in the context ${context}`);
}
