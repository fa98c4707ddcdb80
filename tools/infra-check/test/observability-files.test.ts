// The alert rules and the dashboard in infra/ name metrics by string; this keeps them in step with
// the metrics the code registers, so a renamed metric cannot leave an alert that never fires.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Admin } from "kafkajs";
import { Registry } from "prom-client";
import { parse } from "yaml";
import type { TokenVerifier } from "@shop/auth";
import { createServiceApp } from "@shop/http-kit";
import type { EventConsumer } from "@shop/kafka";
import { createLogger } from "@shop/logging";
import {
  SagaOutcomeMetrics,
  consumerObserverMetrics,
  registerBrokerGauges,
  registerConsumerGauges,
  registerOutboxGauges,
  type OutboxRelay,
} from "@shop/outbox";
import { createApp as createGatewayApp } from "../../../gateway/src/app.ts";
import { registerCircuitGauge } from "../../../services/order/src/clients/circuit.ts";

const infra = (file: string) => fileURLToPath(new URL(`../../../infra/${file}`, import.meta.url));
const logger = createLogger("observability-files-test", "silent");

/** Every series name a scrape of any process can show, from the registration code itself (nothing is collected). */
function registeredSeriesNames(): Set<string> {
  const registry = new Registry();
  createServiceApp({ service: "test", logger, routes: [], openApi: { title: "test", version: "0" }, metrics: registry });
  const gateway = new Registry();
  createGatewayApp({ logger, upstreams: new Map(), verifyToken: (async () => ({})) as unknown as TokenVerifier, metrics: gateway });
  consumerObserverMetrics(registry, "test");
  registerConsumerGauges(registry, "test", {} as EventConsumer);
  registerBrokerGauges(registry, { service: "test", admin: {} as Admin, consumer: {} as EventConsumer, logger });
  registerOutboxGauges(registry, "test", {} as OutboxRelay, logger);
  new SagaOutcomeMetrics(registry, "test");
  registerCircuitGauge(registry, {});
  const names = new Set(["up"]);
  for (const metric of [...registry.getMetricsAsArray(), ...gateway.getMetricsAsArray()]) {
    names.add(metric.name);
    const type = String(metric.type);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(metric.name + suffix);
  }
  return names;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"]);

/** The metric names a PromQL expression reads (functions, keywords, labels and label values left out). */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/\$\{?\w+\}?/g, " ") // Grafana variables ($__rate_interval, ${datasource})
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, " ") // label values and strings
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // grouping label lists
    .replace(/\[[^\]]*\]/g, " "); // range selectors
  const names: string[] = [];
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const token = match[0];
    const after = stripped.slice(match.index + token.length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(token.toLowerCase())) continue;
    names.push(token);
  }
  return names;
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface Dashboard {
  panels: { title: string; type: string; targets?: { expr: string }[] }[];
}

const rules = parse(readFileSync(infra("prometheus/alerts.yaml"), "utf8")) as RuleFile;
const dashboard = JSON.parse(readFileSync(infra("grafana/shop-dashboard.json"), "utf8")) as Dashboard;
const alertExprs = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: String(r.expr) })));
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));

test("the name extraction finds metrics and only metrics", () => {
  expect(metricNamesIn('sum by (group, topic) (rate(kafka_consumer_lag{service="order", topic=~"a.+"}[$__rate_interval])) / on (group) up > 0.5')).toEqual([
    "kafka_consumer_lag",
    "up",
  ]);
  expect(metricNamesIn("histogram_quantile(0.95, sum by (le) (rate(saga_duration_seconds_bucket[10m]))) > 10 and x_total")).toEqual([
    "saga_duration_seconds_bucket",
    "x_total",
  ]);
});

test("every metric the alert rules and the dashboard read is registered by the code", () => {
  const registered = registeredSeriesNames();
  const unknown = [...alertExprs, ...panelExprs].flatMap(({ where, expr }) =>
    metricNamesIn(expr)
      .filter((name) => !registered.has(name))
      .map((name) => `${where}: ${name}`),
  );
  expect(unknown).toEqual([]);
  // Each file reads something: an empty or unparsed file would pass the check above.
  expect(alertExprs.length).toBeGreaterThan(5);
  expect(panelExprs.length).toBeGreaterThan(10);
});

test.each([
  ["consumer lag", "kafka_consumer_lag"],
  ["saga failures", "saga_outcomes_total"],
  ["dead letters", "saga_dead_letters_total"],
  ["an open circuit breaker", "gateway_upstream_circuit_open"],
  ["the outbox's oldest event", "outbox_oldest_row_age_seconds"],
])("an alert watches %s (%s)", (_what, metric) => {
  expect(alertExprs.filter(({ expr }) => metricNamesIn(expr).includes(metric))).not.toEqual([]);
});

test.each([
  "kafka_consumer_lag",
  "saga_outcomes_total",
  "saga_duration_seconds_bucket",
  "outbox_backlog_rows",
  "outbox_oldest_row_age_seconds",
  "saga_dead_letters_total",
  "kafka_dead_letter_topic_records",
  "saga_consumer_retries_in_progress",
  "gateway_rate_limit_rejections_total",
  "gateway_upstream_circuit_open",
  "http_request_duration_seconds_bucket",
])("the dashboard shows %s", (metric) => {
  expect(panelExprs.filter(({ expr }) => metricNamesIn(expr).includes(metric))).not.toEqual([]);
});
