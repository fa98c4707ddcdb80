// The README's walkthrough (scripts/demo.sh, `npm run demo`) against the whole system: the same
// text in both places, working in bash and zsh from a sub-folder of the repository and from outside
// it, stopping at the first step that fails and showing its answer.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Shop } from "./support/fixtures.ts";
import { startTestSystem, type TestSystem } from "./support/system.ts";

const E2E_TIMEOUT_MS = 180_000;
const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(path.join(root, "README.md"), "utf8");
const script = readFileSync(path.join(root, "scripts", "demo.sh"), "utf8");
/** The walk itself: the subshell block, as pasted. */
const walkOf = (text: string) => /^\( set -euo pipefail\n[\s\S]*?\n\)$/m.exec(text)?.[0];
const shells = ["bash", "zsh"].filter((shell) => spawnSync(shell, ["-c", "true"]).status === 0);

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
  // What `npm start` seeds: the walk orders the catalog's first product.
  await (await Shop.at(system.gatewayUrl)).product({ name: "무선 블루투스 이어폰", price: 59_000, stock: 100 });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await system?.stop();
}, E2E_TIMEOUT_MS);

/** Runs the walk as pasted into an interactive shell (`-i`: comments, globbing and history as a person has them). */
function walk(shell: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(shell, shell === "zsh" ? ["-f", "-i"] : ["--norc", "-i"], {
      cwd,
      env: { ...process.env, API: `${system.gatewayUrl}/api/v1`, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code) => resolve({ code, output }));
    // The walk's status decides the shell's, as it would decide whether a person reads on.
    child.stdin.end(`${walkOf(script)}\nexit $?\n`);
  });
}

test("the README shows exactly the walk that `npm run demo` runs", () => {
  expect(walkOf(script)).toBeDefined();
  expect(walkOf(readme)).toBe(walkOf(script));
});

test.each(shells)(
  "in %s, from a sub-folder and from outside the repository, the walk ends with the order's timeline",
  async (shell) => {
    for (const [cwd, env] of [
      [path.join(root, "services", "wallet"), {}],
      [tmpdir(), { SHOP: root }],
    ] as const) {
      const { code, output } = await walk(shell, cwd, env);
      if (code !== 0) console.info(output.slice(-3_000));
      expect({ shell, cwd, code, tail: output.slice(-1_500) }).toEqual({ shell, cwd, code: 0, tail: expect.any(String) });
      expect(output).toContain('{"status":"ready"}');
      expect(output).toContain('"status":"COMPLETED","subtotal":59000,"discountAmount":5000,"totalAmount":54000');
      expect(output).toMatch(/"balance":46000/);
      expect(output.trimEnd()).toMatch(
        /ORDER_PLACED {2}SUCCEEDED\n.*BALANCE_DEBITED {2}SUCCEEDED\n.*STOCK_RESERVED {2}SUCCEEDED\n.*PAYMENT_COMPLETED {2}SUCCEEDED\n.*COMPLETED {2}SUCCEEDED\n/,
      );
    }
  },
  E2E_TIMEOUT_MS,
);

test.each(shells)(
  "in %s, the first failing step stops the walk and shows the problem it got",
  async (shell) => {
    // Tokens signed with another secret: the first call that needs one (step 4) is refused.
    const { code, output } = await walk(shell, root, { JWT_SECRET: "not-the-secret-of-this-system-0123456789" });
    expect(code).not.toBe(0);
    expect(output).toContain("== 4.");
    expect(output).toMatch(/FAILED: \{.*"code":"UNAUTHORIZED"/);
    expect(output).not.toContain("== 5.");
  },
  E2E_TIMEOUT_MS,
);
