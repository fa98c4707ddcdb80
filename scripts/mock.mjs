// `npm run mock`: a mock of the public API served from docs/openapi.json on MOCK_PORT (4010), for
// building a client without the system running. Prism answers every valid request with the
// document's example and checks every request against the document; this script puts a thin
// front before it so that its refusals look like the API's own: an invalid request is a 400
// VALIDATION_FAILED naming the fields Prism found wrong (Prism would pick a documented 422), an
// unknown path a 404 and a wrong method a 405 with Allow, each as problem+json. `Prefer: code=409`
// (and `example=COUPON_SOLD_OUT`) asks for any other documented answer.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const documentPath = path.join(root, "docs", "openapi.json");
const document = JSON.parse(readFileSync(documentPath, "utf8"));
const port = Number(process.env.MOCK_PORT ?? 4010);
const host = process.env.MOCK_HOST ?? "127.0.0.1";

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port: free } = server.address();
      server.close(() => resolve(free));
    });
  });

/** The document's paths as patterns, with their methods, for 405's Allow. */
const templates = Object.entries(document.paths).map(([template, item]) => ({
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
  methods: Object.keys(item).map((m) => m.toUpperCase()),
}));
function allowedMethods(pathname) {
  const methods = new Set(templates.filter((t) => t.pattern.test(pathname)).flatMap((t) => t.methods));
  if (methods.has("GET")) methods.add("HEAD");
  return methods.size ? [...methods, "OPTIONS"].sort() : undefined;
}

const TITLES = { 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed" };
function problem(status, code, detail, extensions = {}) {
  const type = `https://docs.shop.local/problems/${code.toLowerCase().replaceAll("_", "-")}`;
  return { type, title: TITLES[status], status, detail, code, ...extensions, traceId: "4bf92f3577b34da6a3ce929d0e0e4736" };
}

/** Prism's violations (`sl-violations`) as the API's field issues: `query.limit`, `body.items.0.quantity`, `header.idempotency-key`. */
function issuesOf(violations) {
  return violations
    .filter((v) => v.severity === "Error")
    .map((v) => {
      const [, ...location] = v.location;
      const missing = /required property '([^']+)'/.exec(v.message)?.[1];
      const field = [...location, ...(missing && !location.includes(missing) ? [missing] : [])].join(".");
      return { field: field || "request", message: v.message };
    });
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/problem+json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function front(prismPort) {
  return (req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const upstream = http.request({ host: "127.0.0.1", port: prismPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const parts = [];
        answer.on("data", (chunk) => parts.push(chunk));
        answer.on("end", () => {
          const text = Buffer.concat(parts).toString();
          const pathname = new URL(req.url, "http://mock").pathname;
          const violations = answer.headers["sl-violations"];
          const askedForCode = /\bcode=/.test(req.headers.prefer ?? "");
          if (violations && (answer.statusCode === 400 || answer.statusCode === 422) && !askedForCode) {
            const errors = issuesOf(JSON.parse(violations));
            return send(res, 400, problem(400, "VALIDATION_FAILED", errors.map((e) => `${e.field}: ${e.message}`).join("; "), { errors }));
          }
          if (text.includes("https://stoplight.io/prism/errors#NO_PATH_MATCHED_ERROR"))
            return send(res, 404, problem(404, "NOT_FOUND", `no route for ${req.method} ${pathname}`));
          if (text.includes("https://stoplight.io/prism/errors#NO_METHOD_MATCHED_ERROR")) {
            const allow = (allowedMethods(pathname) ?? []).join(", ");
            return send(res, 405, problem(405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed here; allowed: ${allow}`), { allow });
          }
          res.writeHead(answer.statusCode, answer.headers);
          res.end(text);
        });
      });
      upstream.on("error", (error) =>
        send(res, 502, { type: "about:blank", title: "Bad Gateway", status: 502, detail: `the mock server failed: ${error.message}`, code: "BAD_GATEWAY" }),
      );
      upstream.end(body);
    });
  };
}

const prismPort = await freePort();
const prism = spawn(
  path.join(root, "node_modules", ".bin", "prism"),
  ["mock", "--host", "127.0.0.1", "--port", String(prismPort), "--verboseLevel", "warn", documentPath],
  {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  },
);
let stopping = false;
prism.once("exit", (code) => {
  if (stopping) process.exit(0);
  console.error(`[mock] Prism stopped (exit ${code})`);
  process.exit(code ?? 1);
});

// Prism is ready once it answers anything.
for (let attempt = 0; ; attempt++) {
  const up = await new Promise((resolve) => {
    const probe = http.get({ host: "127.0.0.1", port: prismPort, path: "/api/v1/products" }, (answer) => {
      answer.resume();
      resolve(true);
    });
    probe.on("error", () => resolve(false));
  });
  if (up) break;
  if (attempt > 300) {
    console.error("[mock] Prism did not start within 30 s");
    prism.kill();
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const server = http.createServer(front(prismPort));
server.listen(port, host, () => {
  console.log(`[mock] the API of docs/openapi.json at http://${host}:${port}/api/v1 (examples; requests checked against the document). Ctrl-C stops it.`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopping = true;
    server.close();
    prism.kill(signal);
  });
}
