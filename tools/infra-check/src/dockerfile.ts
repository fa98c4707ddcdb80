import { readFileSync } from "node:fs";
import path from "node:path";
import type { FindingList } from "./findings.ts";

interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

interface Stage {
  from: Instruction;
  name: string | undefined;
  instructions: Instruction[];
}

// Build-time variables Docker defines without an ARG line.
const PREDEFINED_ARGS = new Set([
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETARCH",
  "TARGETVARIANT",
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDARCH",
  "BUILDVARIANT",
]);

/** Instructions with their first line number; continuation lines joined, comment lines inside them dropped (as the parser does). */
export function parseDockerfile(text: string): { directives: { line: number; text: string }[]; instructions: Instruction[] } {
  const lines = text.split("\n");
  const directives: { line: number; text: string }[] = [];
  const instructions: Instruction[] = [];
  let inHeader = true;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    // Parser directives (`# syntax=…`, `# escape=…`) are only recognised before anything else.
    if (inHeader && /^#\s*[a-zA-Z]+\s*=/.test(trimmed)) {
      directives.push({ line: i + 1, text: trimmed });
      continue;
    }
    if (trimmed === "" || trimmed.startsWith("#")) {
      if (trimmed === "" || !/^#\s*[a-zA-Z]+\s*=/.test(trimmed)) inHeader = false;
      continue;
    }
    inHeader = false;
    const start = i;
    let joined = raw.replace(/\\\s*$/, "");
    while (/\\\s*$/.test(lines[i]!) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (next.trim().startsWith("#")) continue;
      joined += " " + next.replace(/\\\s*$/, "").trim();
      if (!/\\\s*$/.test(next)) break;
    }
    const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(joined);
    if (match) instructions.push({ line: start + 1, keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
  }
  return { directives, instructions };
}

const isExecForm = (args: string): boolean => {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === "string");
  } catch {
    return false;
  }
};

/** Names an ARG line declares, with defaults. */
function argDeclarations(args: string): [string, string | undefined][] {
  return args
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf("=");
      return eq === -1 ? [part, undefined] : [part.slice(0, eq), part.slice(eq + 1).replace(/^["']|["']$/g, "")];
    });
}

/**
 * The repository's rules for its one Dockerfile (hadolint is not obtainable offline): no parser
 * directive that fetches a frontend, base images pinned through a global ARG with a real tag,
 * build args declared in the stage that uses them, a final stage that runs as a non-root user with
 * a HEALTHCHECK and an exec-form CMD, COPY rather than ADD.
 */
export function checkDockerfile(file: string, findings: FindingList): number {
  const name = path.basename(file);
  const { directives, instructions } = parseDockerfile(readFileSync(file, "utf8"));
  for (const directive of directives) {
    if (/^#\s*syntax\s*=/i.test(directive.text)) {
      findings.add(
        `${name}:${directive.line}`,
        `"${directive.text}" makes BuildKit pull a frontend image from Docker Hub at every build (fails offline or behind a registry mirror); remove it, the built-in frontend is enough`,
      );
    }
  }

  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      stages.push({ from: instruction, name: match?.[2], instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === "ARG") for (const [arg, value] of argDeclarations(instruction.args)) globalArgs.set(arg, value);
      else findings.add(`${name}:${instruction.line}`, `${instruction.keyword} before the first FROM (only ARG may come first)`);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  if (stages.length === 0) {
    findings.add(name, "has no FROM");
    return 0;
  }

  // Every name an ARG line declares anywhere: using one in a stage that does not declare it is the usual mistake.
  const buildArgs = new Set([
    ...globalArgs.keys(),
    ...stages.flatMap((s) => s.instructions.filter((i) => i.keyword === "ARG").flatMap((i) => argDeclarations(i.args).map(([arg]) => arg))),
  ]);
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name!, s]));
  /** ENV names of a stage and of the stages it is built on (they are inherited). */
  const stageEnv = (stage: Stage): Set<string> => {
    const names = new Set<string>();
    for (let current: Stage | undefined = stage, depth = 0; current && depth < stages.length; depth++) {
      for (const i of current.instructions.filter((i) => i.keyword === "ENV"))
        for (const m of i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)) names.add(m[1]!);
      current = byName.get(/^(?:--platform=\S+\s+)?(\S+)/.exec(current.from.args)?.[1] ?? "");
    }
    return names;
  };

  const stageNames = new Set<string>();
  for (const stage of stages) {
    const at = `${name}:${stage.from.line}`;
    const image = /^(?:--platform=\S+\s+)?(\S+)/.exec(stage.from.args)?.[1] ?? "";
    if (stageNames.has(image)) {
      // Built on an earlier stage: pinned by that stage.
    } else {
      const argRef = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(image);
      if (!argRef) {
        findings.add(
          at,
          `base image ${image} is written in the FROM line; pin it through a global ARG (e.g. ARG NODE_IMAGE=node:24-slim) so it can be changed and mirrored in one place`,
        );
      } else if (!globalArgs.has(argRef[1]!)) {
        findings.add(at, `FROM uses \${${argRef[1]}}, which no ARG before the first FROM declares`);
      } else {
        const value = globalArgs.get(argRef[1]!);
        if (!value) findings.add(at, `ARG ${argRef[1]} has no default base image`);
        else if (!/[:@]/.test(value.split("/").at(-1)!) || /:latest$/.test(value))
          findings.add(at, `ARG ${argRef[1]}=${value} is not pinned to a tag or digest (and not :latest)`);
      }
    }
    if (stage.name) stageNames.add(stage.name);

    // A build arg is empty in a stage that does not declare it (global ARGs need re-declaring too).
    const declared = new Set<string>();
    for (const instruction of stage.instructions) {
      if (instruction.keyword === "ARG") {
        for (const [arg] of argDeclarations(instruction.args)) declared.add(arg);
        continue;
      }
      if (instruction.keyword === "ADD" && !/--checksum=/.test(instruction.args)) {
        findings.add(`${name}:${instruction.line}`, `ADD: use COPY for local files (ADD also fetches URLs and unpacks archives)`);
      }
      if (["RUN", "ENV", "WORKDIR", "COPY", "USER", "LABEL"].includes(instruction.keyword)) {
        for (const match of instruction.args.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+?][^}]*)?\}/g)) {
          const arg = match[1]!;
          // Assigned by the script itself (`NAME=…` at the start of a command)?
          const setHere = new RegExp(`(^|[;&|(])\\s*(export\\s+)?${arg}=`).test(instruction.args);
          if (buildArgs.has(arg) && !declared.has(arg) && !stageEnv(stage).has(arg) && !setHere && !PREDEFINED_ARGS.has(arg)) {
            findings.add(`${name}:${instruction.line}`, `uses \${${arg}}, a build arg that this stage does not declare (ARG ${arg}), so it is empty here`);
          }
        }
      }
    }
  }

  const final = stages.at(-1)!;
  const at = `${name} final stage (line ${final.from.line})`;
  const users = final.instructions.filter((i) => i.keyword === "USER");
  const user = users.at(-1)?.args.split(":")[0];
  if (!user) findings.add(at, "has no USER: the container would run as root");
  else if (user === "root" || user === "0") findings.add(at, `USER ${user}: the container must run as a non-root user`);
  if (!final.instructions.some((i) => i.keyword === "HEALTHCHECK" && !/^NONE$/i.test(i.args)))
    findings.add(at, "has no HEALTHCHECK (Compose and plain docker run rely on it)");
  const cmd = final.instructions.filter((i) => i.keyword === "CMD" || i.keyword === "ENTRYPOINT").at(-1);
  if (!cmd) findings.add(at, "has no CMD or ENTRYPOINT");
  else if (!isExecForm(cmd.args))
    findings.add(`${name}:${cmd.line}`, `${cmd.keyword} in shell form: use the exec form (JSON array) so the process gets SIGTERM directly`);
  return stages.length;
}
