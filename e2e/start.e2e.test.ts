// `npm start` itself: it sets up, runs every service and the gateway, serves /readyz, and Ctrl-C
// stops what it started. Ports are moved to free ones so a running instance does not interfere.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { eventually, freePort } from "@shop/testing";

const E2E_TIMEOUT_MS = 240_000;
const root = fileURLToPath(new URL("..", import.meta.url));

test(
  "npm start serves GET /readyz 200 on the gateway with a demo catalog, and Ctrl-C stops everything",
  async () => {
    const ports: Record<string, string> = {};
    for (const name of ["GATEWAY", "WALLET", "CATALOG", "COUPON", "ORDER", "PAYMENT"]) ports[`${name}_PORT`] = String(await freePort());
    const gateway = `http://127.0.0.1:${ports.GATEWAY_PORT}`;
    const start = spawn(process.execPath, ["scripts/start.mjs"], {
      cwd: root,
      env: { ...process.env, ...ports, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    start.stdout.on("data", (d: Buffer) => (output += d.toString()));
    start.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => start.once("exit", (code) => resolve(code)));
    try {
      // "ready" is announced once every service answers its own /readyz (the gateway's does not
      // depend on the services behind it).
      await eventually(
        async () => {
          if (start.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
          expect(output).toContain("[start] ready");
        },
        180_000,
        500,
      );
      expect((await fetch(`${gateway}/readyz`)).status).toBe(200);
      const products = (await (await fetch(`${gateway}/api/v1/products`)).json()) as { items: unknown[] };
      expect(products.items.length).toBeGreaterThan(0);
    } finally {
      start.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    await expect(fetch(`${gateway}/healthz`)).rejects.toThrow();
    for (const name of ["WALLET", "CATALOG", "COUPON", "ORDER", "PAYMENT"]) {
      await expect(fetch(`http://127.0.0.1:${ports[`${name}_PORT`]}/healthz`)).rejects.toThrow();
    }
  },
  E2E_TIMEOUT_MS,
);
