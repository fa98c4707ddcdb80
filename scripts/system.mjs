// Runs every service and the gateway as separate processes (what `npm start` and `npm run bench` share).
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { databaseUrl, root, runnableServices } from "./setup.mjs";

const colors = [36, 33, 35, 32, 34, 37];

/**
 * @param {{ env?: Record<string,string>, perService?: Record<string, Record<string,string>>, logDir?: string, onExit?: (name: string) => void }} options
 *   logs go to the terminal with a per-service prefix, or to `<logDir>/<service>.log`.
 */
export function startSystem(options = {}) {
  const children = [];
  const services = runnableServices();
  const gatewayPort = options.env?.GATEWAY_PORT ?? process.env.GATEWAY_PORT ?? "8080";
  // WALLET_PORT, CATALOG_PORT, … move a service; the gateway and the order service follow it.
  const portOf = (s) => options.env?.[`${s.name.toUpperCase()}_PORT`] ?? process.env[`${s.name.toUpperCase()}_PORT`] ?? String(s.port);
  const urls = Object.fromEntries(services.map((s) => [`${s.name.toUpperCase()}_URL`, `http://127.0.0.1:${portOf(s)}`]));
  const units = services.map((s) => ({
    name: s.name,
    dir: s.dir,
    env: { PORT: portOf(s), DATABASE_URL: databaseUrl(s.schema), ...(s.name === "order" || s.name === "coupon" ? urls : {}) },
  }));
  const gatewayDir = path.join(root, "gateway");
  if (existsSync(path.join(gatewayDir, "src", "main.ts"))) {
    units.push({ name: "gateway", dir: gatewayDir, env: { PORT: gatewayPort, UPSTREAMS: services.map((s) => s.name).join(","), ...urls } });
  }
  const sinkDir = path.join(root, "tools", "data-platform-sink");
  if (existsSync(path.join(sinkDir, "src", "main.ts"))) units.push({ name: "sink", dir: sinkDir, env: {} });
  if (options.logDir) mkdirSync(options.logDir, { recursive: true });

  units.forEach((unit, i) => {
    const env = { ...process.env, ...options.env, ...unit.env, ...options.perService?.[unit.name] };
    const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", "--import", "tsx", "src/main.ts"], {
      cwd: unit.dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (options.logDir) {
      const file = createWriteStream(path.join(options.logDir, `${unit.name}.log`));
      child.stdout.pipe(file);
      child.stderr.pipe(file);
    } else {
      const prefix = `\x1b[${colors[i % colors.length]}m[${unit.name.padEnd(7)}]\x1b[0m `;
      for (const stream of [child.stdout, child.stderr]) {
        let buffered = "";
        stream.on("data", (chunk) => {
          const lines = (buffered + chunk).split("\n");
          buffered = lines.pop();
          for (const line of lines) process.stdout.write(prefix + line + "\n");
        });
      }
    }
    child.on("exit", (code, signal) => {
      if (!stopped) {
        process.stdout.write(`[${unit.name}] exited (${signal ?? code})\n`);
        options.onExit?.(unit.name);
      }
    });
    children.push({ name: unit.name, child });
  });

  let stopped = false;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  return {
    gatewayUrl,
    children,
    /**
     * Resolves when every unit answers its own /readyz (the gateway's readiness does not depend
     * on the services it routes to, so each service is asked directly).
     */
    async waitReady(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      const readyUrls = units.filter((u) => u.name !== "sink").map((u) => ({ name: u.name, url: `http://127.0.0.1:${u.env.PORT}/readyz` }));
      let waitingFor = readyUrls.map((u) => u.name);
      while (Date.now() < deadline) {
        const answers = await Promise.all(
          readyUrls.map((u) =>
            fetch(u.url).then(
              (r) => r.ok,
              () => false,
            ),
          ),
        );
        waitingFor = readyUrls.filter((_, i) => !answers[i]).map((u) => u.name);
        if (waitingFor.length === 0) return;
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error(`not ready within ${timeoutMs / 1000} s: ${waitingFor.join(", ")}`);
    },
    async stop() {
      stopped = true;
      await Promise.all(
        children.map(
          ({ child }) =>
            new Promise((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once("exit", resolve);
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
            }),
        ),
      );
    },
  };
}
