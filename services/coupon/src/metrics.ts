import { Histogram, Registry } from "prom-client";
import type { IssueObserver } from "./domain/ports.ts";

/** Prometheus side of the issue path: how long admission takes, how big the group commits get. */
export function issueMetrics(registry: Registry): IssueObserver {
  const admission = new Histogram({
    name: "coupon_admission_seconds",
    help: "Redis admission script round trip, by verdict",
    labelNames: ["verdict"],
    buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "coupon_issue_batch_size",
    help: "Admitted requests written by one group commit",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: "coupon_issue_batch_seconds",
    help: "Duration of one group commit (transaction) in PostgreSQL",
    labelNames: ["outcome"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return {
    admission: (verdict, seconds) => admission.observe({ verdict }, seconds),
    batchWritten: (size, seconds, ok) => {
      batchSize.observe(size);
      batchSeconds.observe({ outcome: ok ? "ok" : "failed" }, seconds);
    },
  };
}
