// `npm run build [unit…]`: each runnable unit as production JavaScript in <unit>/dist/, for the
// images (`node dist/main.js`, no TypeScript loader). esbuild bundles the unit's sources with the
// @shop/* workspace packages inlined (they are TypeScript source, which Node cannot load from
// node_modules); npm packages stay external, so the image carries them as installed
// (`npm install --omit=dev`). Development is unchanged: tsx, jest and `npm start` run the sources.
//
// A service also gets dist/prisma.config.js, its prisma.config.ts bundled the same way: the image
// puts it next to prisma/ so `prisma migrate deploy` finds it without the TypeScript sources.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** What the Dockerfile's build arg SERVICE selects; `entry` is bundled to dist/<its base name>.js. */
export const units = [
  ...["wallet", "catalog", "coupon", "order", "payment"].map((name) => ({ name, dir: `services/${name}`, entry: "src/main.ts" })),
  { name: "gateway", dir: "gateway", entry: "src/main.ts" },
  { name: "audit", dir: "tools/audit", entry: "src/cli.ts" },
];

const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));
const packageName = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
const isBuiltin = (specifier) => specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]);

/** @shop/* resolve through the workspace links to their TypeScript sources and are bundled; every other package is left to Node. */
const externalPackages = {
  name: "external-npm-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.kind === "entry-point" || args.path.startsWith("@shop/") ? undefined : { path: args.path, external: true },
    );
  },
};

/** `prisma generate` when the schema changed since the last one (the same stamp as scripts/setup.mjs writes). */
function ensurePrismaClient(unitDir) {
  const schemaFile = path.join(unitDir, "prisma", "schema.prisma");
  if (!existsSync(schemaFile)) return;
  const hash = createHash("sha256").update(readFileSync(schemaFile)).digest("hex");
  const stamp = path.join(unitDir, "src", "data", "generated", ".schema-hash");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  const result = spawnSync(process.execPath, [path.join(root, "node_modules", "prisma", "build", "index.js"), "generate"], {
    cwd: unitDir,
    encoding: "utf8",
    // generate needs no database; the URL only satisfies env("DATABASE_URL") in schema.prisma.
    env: {
      DATABASE_URL: "postgresql://build@127.0.0.1:5432/build",
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false",
      PRISMA_QUERY_ENGINE_LIBRARY: "/bin/false",
      CHECKPOINT_DISABLE: "1",
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
    },
  });
  if (result.status !== 0) throw new Error(`prisma generate in ${path.relative(root, unitDir)} failed:\n${result.stdout}${result.stderr}`);
  writeFileSync(stamp, hash);
}

/** `if (isEntryPoint(import.meta.url))` or `import.meta.url === \`file://${process.argv[1]}\``: in a bundle every module has the entry's URL. */
const RUNS_ITSELF = /isEntryPoint\(\s*import\.meta\.url|import\.meta\.url\s*===[^\n]*process\.argv\[1\]/;

/**
 * Problems esbuild cannot see: an external package that a production install would not bring (not
 * a dependency of the unit, of an inlined @shop package or of the root), and a module other than the
 * entry that runs itself when it is the main module (inside one bundle, every module is).
 */
function bundleProblems(unit, entryFile, metafile) {
  const problems = [];
  const declared = new Set(Object.keys(readJson(path.join(root, "package.json")).dependencies ?? {}));
  const addDependencies = (manifest) => Object.keys(readJson(manifest).dependencies ?? {}).forEach((d) => declared.add(d));
  addDependencies(path.join(root, unit.dir, "package.json"));
  for (const input of Object.keys(metafile.inputs)) {
    const inlined = /^packages\/([^/]+)\//.exec(input);
    if (inlined) addDependencies(path.join(root, "packages", inlined[1], "package.json"));
    const file = path.join(root, input);
    if (file !== entryFile && /\.ts$/.test(input) && RUNS_ITSELF.test(readFileSync(file, "utf8"))) {
      problems.push(`${input} runs itself when it is the main module; bundled into ${unit.dir}/dist it would run with the entry`);
    }
  }
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || isBuiltin(imported.path)) continue;
      const name = packageName(imported.path);
      if (!declared.has(name))
        problems.push(`imports ${name}, which is not a dependency of ${unit.dir}, of the @shop packages it uses or of the root: the image would not have it`);
    }
  }
  return [...new Set(problems)];
}

async function bundle(unit, entryFile, outfile) {
  const result = await esbuild.build({
    entryPoints: [entryFile],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    plugins: [externalPackages],
    // Readable stack traces and class names in logs; `node --enable-source-maps` maps them to the sources.
    keepNames: true,
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    logLevel: "warning",
    absWorkingDir: root,
  });
  const problems = bundleProblems(unit, entryFile, result.metafile);
  if (problems.length) throw new Error(`${unit.name}:\n  - ${problems.join("\n  - ")}`);
}

export async function build(unit) {
  const unitDir = path.join(root, unit.dir);
  const outDir = path.join(unitDir, "dist");
  ensurePrismaClient(unitDir);
  rmSync(outDir, { recursive: true, force: true });
  const entryFile = path.join(unitDir, unit.entry);
  await bundle(unit, entryFile, path.join(outDir, `${path.basename(unit.entry, ".ts")}.js`));
  const prismaConfig = path.join(unitDir, "prisma.config.ts");
  if (existsSync(prismaConfig)) await bundle(unit, prismaConfig, path.join(outDir, "prisma.config.js"));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !units.some((u) => u.name === name));
  if (unknown.length) {
    console.error(`[build] unknown unit ${unknown.join(", ")}; one of ${units.map((u) => u.name).join(" | ")}`);
    process.exit(2);
  }
  const selected = wanted.length ? units.filter((u) => wanted.includes(u.name)) : units;
  const started = Date.now();
  try {
    // One after another: prisma generate and esbuild each use both cores already.
    for (const unit of selected) console.log(`[build] ${unit.name}: ${path.relative(root, await build(unit))}`);
  } catch (error) {
    console.error(`[build] ${error.message}`);
    process.exit(1);
  }
  console.log(`[build] ${selected.length} unit(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
