import type { FindingList } from "./findings.ts";
import { allContainers, templateName, type PodTemplate } from "./workloads.ts";

// Pod Security Standards, "restricted" profile (which includes "baseline"), as of Kubernetes 1.27:
// https://kubernetes.io/docs/concepts/security/pod-security-standards/
const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const ALLOWED_SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t"]);

/**
 * What namespace `shop`'s `pod-security.kubernetes.io/enforce: restricted` would refuse at
 * admission, found before applying; plus the project's own rules for its pods (read-only root file
 * system, resource requests and a memory limit).
 */
export function checkPodSecurity(templates: PodTemplate[], findings: FindingList): void {
  for (const template of templates) {
    const where = templateName(template);
    const pod = template.spec;
    const podContext = pod.securityContext ?? {};
    for (const field of ["hostNetwork", "hostPID", "hostIPC"] as const) {
      if (pod[field] === true) findings.add(where, `spec.${field} must not be true (Pod Security "restricted")`);
    }
    for (const volume of pod.volumes ?? []) {
      const types = Object.keys(volume).filter((key) => key !== "name");
      for (const type of types) {
        if (!RESTRICTED_VOLUME_TYPES.has(type))
          findings.add(
            where,
            `volume "${volume.name}" is of type ${type}, which Pod Security "restricted" forbids (allowed: ${[...RESTRICTED_VOLUME_TYPES].join(", ")})`,
          );
      }
    }
    for (const sysctl of podContext.sysctls ?? []) {
      if (!SAFE_SYSCTLS.has(sysctl.name)) findings.add(where, `sysctl ${sysctl.name} is not in the safe set (Pod Security "restricted")`);
    }
    if (podContext.runAsUser === 0) findings.add(where, `spec.securityContext.runAsUser must not be 0 (Pod Security "restricted")`);
    checkSeLinux(podContext.seLinuxOptions, `${where} pod`, findings);
    if (podContext.seccompProfile?.type === "Unconfined")
      findings.add(where, `spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost, not Unconfined (Pod Security "restricted")`);

    for (const { label, container } of allContainers(pod)) {
      const at = `${where} ${label}`;
      const context = container.securityContext ?? {};
      if (context.privileged === true) findings.add(at, `securityContext.privileged must not be true (Pod Security "restricted")`);
      if (context.allowPrivilegeEscalation !== false) findings.add(at, `securityContext.allowPrivilegeEscalation must be false (Pod Security "restricted")`);
      if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true)
        findings.add(at, `runAsNonRoot must be true, on the pod or the container (Pod Security "restricted")`);
      if (context.runAsUser === 0) findings.add(at, `securityContext.runAsUser must not be 0 (Pod Security "restricted")`);
      const seccomp = context.seccompProfile?.type ?? podContext.seccompProfile?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
        findings.add(
          at,
          `seccompProfile.type must be RuntimeDefault or Localhost, on the pod or the container (Pod Security "restricted"; found ${seccomp ?? "none"})`,
        );
      const drop = context.capabilities?.drop ?? [];
      if (!drop.includes("ALL")) findings.add(at, `securityContext.capabilities.drop must include ALL (Pod Security "restricted")`);
      for (const capability of context.capabilities?.add ?? []) {
        if (capability !== "NET_BIND_SERVICE") findings.add(at, `capability ${capability} may not be added; only NET_BIND_SERVICE (Pod Security "restricted")`);
      }
      if (context.procMount !== undefined && context.procMount !== "Default")
        findings.add(at, `securityContext.procMount must be Default (Pod Security "restricted")`);
      checkSeLinux(context.seLinuxOptions, at, findings);
      for (const port of container.ports ?? []) {
        if (port.hostPort) findings.add(at, `port ${port.containerPort} has hostPort ${port.hostPort}; host ports are forbidden (Pod Security "restricted")`);
      }
      // Project rules: nothing in the image is written at run time, and the scheduler knows what each pod needs.
      if (context.readOnlyRootFilesystem !== true)
        findings.add(at, `securityContext.readOnlyRootFilesystem must be true (project rule: write only to an emptyDir such as /tmp)`);
      const requests = container.resources?.requests ?? {};
      if (requests.cpu === undefined || requests.memory === undefined)
        findings.add(at, `resources.requests must set cpu and memory (project rule: the scheduler and the HPA need them)`);
      if (container.resources?.limits?.memory === undefined) findings.add(at, `resources.limits.memory must be set (project rule)`);
    }
  }
}

function checkSeLinux(options: { type?: string; user?: string; role?: string } | undefined, where: string, findings: FindingList): void {
  if (!options) return;
  if (!ALLOWED_SELINUX_TYPES.has(options.type ?? "")) findings.add(where, `seLinuxOptions.type ${options.type} is not allowed (Pod Security "restricted")`);
  if (options.user || options.role) findings.add(where, `seLinuxOptions.user and .role must not be set (Pod Security "restricted")`);
}
