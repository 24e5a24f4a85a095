import { describe, expect, it } from "vitest";
import { runModelgate } from "./support/cli.ts";

/**
 * Every usage mistake is one line on stderr, the same shape for every command, and exit 2:
 * `modelgate <command>: <what is wrong>; see 'modelgate <command> --help'`. No usage block
 * (it buried the one line that mattered), no stack trace.
 */
const MISTAKES: Array<[string, string[], RegExp]> = [
  ["unknown flag", ["classify", "--bsae", "main"], /unknown option '--bsae'; did you mean '--base'\?/],
  ["missing value", ["classify", "--base"], /--base needs a value/],
  ["missing required flag", ["classify"], /--base REF is required/],
  [
    "bad choice",
    ["classify", "--base", "main", "--format", "yaml"],
    /--format: expected one of json, text, found 'yaml'/,
  ],
  ["extra positional", ["classify", "--base", "main", "extra"], /unexpected argument 'extra'/],
  ["eval: missing required flag", ["eval"], /--base REF is required/],
  [
    "eval: bad number",
    ["eval", "--base", "main", "--concurrency", "two"],
    /--concurrency: expected a positive integer, found 'two'/,
  ],
  [
    "eval: bad time scale",
    ["eval", "--base", "main", "--simulator-time-scale=-1"],
    /--simulator-time-scale: expected a number ≥ 0, found '-1'/,
  ],
  ["merge: no files", ["merge", "--out", "x.json"], /give at least one result file/],
  ["merge: missing --out", ["merge", "a.json"], /--out FILE is required/],
  [
    "simulate: bad port",
    ["simulate", "--port", "99999"],
    /--port: expected a port number 0-65535, found '99999'/,
  ],
  [
    "simulate: bad time scale",
    ["simulate", "--time-scale", "fast"],
    /--time-scale: expected a number ≥ 0, found 'fast'/,
  ],
];

describe("CLI usage errors", () => {
  it.each(MISTAKES)("%s is one line and exit 2", (_name, args, what) => {
    const command = args[0] ?? "";
    const run = runModelgate(args);
    expect(run.code).toBe(2);
    const lines = run.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^modelgate ${command}: .+; see 'modelgate ${command} --help'$`));
    expect(lines[0]).toMatch(what);
    expect(run.stdout).toBe("");
  });

  it("an unknown command is one line too", () => {
    const run = runModelgate(["clasify"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("modelgate: unknown command 'clasify'; see 'modelgate --help'\n");
  });
});
