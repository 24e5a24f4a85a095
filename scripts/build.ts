import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * One bundler, one file per door: dist/ is committed, so the Action runs without `npm ci`
 * and `npx modelgate` needs no TypeScript. CI rebuilds and fails when dist/ changes.
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
  target: "node24",
  format: "esm",
  splitting: false,
  minify: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __modelgateRequire } from 'node:module'; const require = __modelgateRequire(import.meta.url);",
  },
});
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  process.stdout.write(`${file}  ${(output.bytes / 1024).toFixed(0)} KiB\n`);
}
