import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";

/**
 * One bundler, one file per door: dist/ is committed, so the Action runs without `npm ci`
 * and `npx modelgate` needs no TypeScript. CI rebuilds and fails when dist/ changes.
 *
 * Every bundle is minified, with a linked source map beside it (`x.js.map`, no sources
 * inside: the map names `src/…` lines, which is what a stack trace needs, at a fifth of the
 * size). `node --enable-source-maps dist/x.js` (or NODE_OPTIONS) maps stack traces to `src/`;
 * an entry cannot switch it on for itself, as Node maps only modules loaded after that.
 * The Action's bundle has a budget (INDEX_BUDGET): it is loaded on every workflow run.
 *
 * `node scripts/build.ts --report` also prints, per bundle, the bytes each package adds.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entries: Record<string, string> = {
  cli: "src/cli/bin.ts",
  index: "src/action/index.ts",
  attribution: "src/app/workflow/index.ts",
  // `npm run demo` runs the bundle, so it works on every Node the CLI supports.
  demo: "scripts/demo.ts",
  app: "src/app/server.ts",
};

/**
 * zod's `z` namespace carries every translation of its error messages (`z.locales` and
 * `z.core.locales`, 260 KiB); nothing here reads them, and zod sets English itself
 * (classic/schemas.js imports locales/en.js), so the namespaces keep only `en`.
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|mini|core)[\\/]/.test(args.importer)
        ? { path: "zod-locales", namespace: "modelgate-zod-locales" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "modelgate-zod-locales" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: root,
      loader: "js",
    }));
  },
};

/**
 * undici (400 KiB with its HTTP parser) reaches the Action only through the toolkit's proxy
 * support; Node's own fetch does that job (see scripts/shims/undici.ts and useEnvProxy).
 */
const undiciViaNodeFetch: Plugin = {
  name: "undici-via-node-fetch",
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: join(root, "scripts", "shims", "undici.ts") }));
  },
};

/** dist/index.js at most 1.5 MB, the class of other widely used JavaScript Actions. */
const INDEX_BUDGET = 1_600_000;

rmSync(join(root, "dist"), { recursive: true, force: true });
const present = Object.fromEntries(
  Object.entries(entries).filter(([, entry]) => existsSync(join(root, entry))),
);
const result = await build({
  absWorkingDir: root,
  entryPoints: present,
  outdir: "dist",
  bundle: true,
  platform: "node",
  // package.json's engines: the CLI, the demo and the App run on Node 20 too.
  target: "node20",
  format: "esm",
  splitting: false,
  minify: true,
  // Stack traces and `::error::` lines name functions, not `a`/`b`.
  keepNames: true,
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [zodEnglishOnly, undiciViaNodeFetch],
  // jsonc-parser's `main` is a UMD build whose require("./impl/…") calls a bundler cannot follow
  // (the bundle failed at run time); its ES module build bundles cleanly.
  alias: { "jsonc-parser": "jsonc-parser/lib/esm/main.js" },
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __modelgateRequire } from 'node:module'; const require = __modelgateRequire(import.meta.url);",
  },
});
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  process.stdout.write(`${file}  ${(output.bytes / 1024).toFixed(0)} KiB\n`);
  if (process.argv.includes("--report") && !file.endsWith(".map")) printPackages(output);
}
const index = result.metafile.outputs["dist/index.js"];
if (index && index.bytes > INDEX_BUDGET) {
  process.stderr.write(
    `build: dist/index.js is ${index.bytes} bytes, over its ${INDEX_BUDGET} byte budget; see what grew with \`node scripts/build.ts --report\`\n`,
  );
  process.exitCode = 1;
}

/** Bytes per npm package (or per `src/<dir>`) in one bundle, largest first. */
function printPackages(output: Metafile["outputs"][string]): void {
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
    const key = pkg ?? input.split("/").slice(0, 2).join("/");
    bytes.set(key, (bytes.get(key) ?? 0) + bytesInOutput);
  }
  const rows = [...bytes].sort((a, b) => b[1] - a[1]).filter(([, n]) => n >= 2048);
  for (const [key, n] of rows) process.stdout.write(`  ${(n / 1024).toFixed(0).padStart(6)} KiB  ${key}\n`);
}
