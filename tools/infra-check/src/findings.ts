/** Which file set a finding is about. */
export type FindingSource = "k8s" | "compose" | "dockerfile";

/** One problem: where it is (an object, a service, a line) and what is wrong, in words an operator can act on. */
export interface Finding {
  source: FindingSource;
  where: string;
  message: string;
}

export const formatFinding = (f: Finding): string => `[${f.source}] ${f.where}: ${f.message}`;

/** Collects findings for one source, so checks only say where and what. */
export class FindingList {
  readonly items: Finding[] = [];
  constructor(private readonly source: FindingSource) {}

  add(where: string, message: string): void {
    this.items.push({ source: this.source, where, message });
  }
}
