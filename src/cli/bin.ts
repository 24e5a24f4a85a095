#!/usr/bin/env node
import { runCli } from "./main.ts";

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stderr.isTTY),
  env: process.env,
});
process.exitCode = exitCode;
