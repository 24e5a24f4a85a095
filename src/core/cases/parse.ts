import { UserError } from "../errors.ts";
import { closestMatch } from "../text/did-you-mean.ts";
import { parseStructured } from "../text/structured.ts";
import { caseSchema, type LocatedCase } from "./schema.ts";

/**
 * Parses one case file (JSONL: one object a line; YAML/JSON: a list). Every error names
 * `file:line`, the field and what was expected; all of a file's errors are reported at once.
 */
export function parseCaseFile(text: string, file: string): LocatedCase[] {
  return file.endsWith(".jsonl") ? parseJsonl(text, file) : parseList(text, file);
}

function parseJsonl(text: string, file: string): LocatedCase[] {
  const cases: LocatedCase[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "" || raw.trimStart().startsWith("//")) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push(`${file}:${line}: not valid JSON (${(error as Error).message})`);
      return;
    }
    validate(value, file, { at: () => line, key: () => line }, cases, problems);
  });
  if (problems.length) throw new UserError(problems.join("\n"));
  return cases;
}

function parseList(text: string, file: string): LocatedCase[] {
  const document = parseStructured(text, file);
  if (document.value === null || document.value === undefined) return [];
  if (!Array.isArray(document.value))
    throw new UserError(`${file}: expected a list of cases, found a ${typeof document.value}`);
  const cases: LocatedCase[] = [];
  const problems: string[] = [];
  document.value.forEach((value, index) => {
    validate(
      value,
      file,
      {
        at: (path) => document.lineOf([index, ...path]) ?? 1,
        key: (parent, key) => document.keyLineOf([index, ...parent], key) ?? 1,
      },
      cases,
      problems,
    );
  });
  if (problems.length) throw new UserError(problems.join("\n"));
  return cases;
}

const CASE_KEYS = Object.keys(caseSchema.shape);

/** Where a problem is: the node at a path, or a key itself (an unknown key is on its own line). */
interface Lines {
  at(path: PropertyKey[]): number;
  key(parent: PropertyKey[], key: string): number;
}

function validate(
  value: unknown,
  file: string,
  lines: Lines,
  cases: LocatedCase[],
  problems: string[],
): void {
  const parsed = caseSchema.safeParse(value);
  if (parsed.success) {
    cases.push({ case: parsed.data, file, line: lines.at([]) });
    return;
  }
  const id =
    typeof (value as { id?: unknown })?.id === "string" ? ` (case ${(value as { id: string }).id})` : "";
  for (const issue of parsed.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const field = [...issue.path.map(String), key].join(".");
        // Top-level keys get a did-you-mean; nested ones (assertions, messages) are short lists.
        const hint = issue.path.length === 0 ? closestMatch(key, CASE_KEYS) : undefined;
        problems.push(
          `${file}:${lines.key(issue.path, key)}${id} ${field}: unknown key${hint ? `; did you mean "${hint}"?` : ""}`,
        );
      }
      continue;
    }
    const field = issue.path.length ? issue.path.map(String).join(".") : "(case)";
    problems.push(
      `${file}:${lines.at(issue.path)}${id} ${field}: ${issue.message.replace(/^Invalid input: /, "")}`,
    );
  }
}

/** Joins case files; the same ID twice is an error that names both places. */
export function mergeCases(files: LocatedCase[][]): LocatedCase[] {
  const seen = new Map<string, LocatedCase>();
  const problems: string[] = [];
  for (const located of files.flat()) {
    const first = seen.get(located.case.id);
    if (first) {
      problems.push(
        `${located.file}:${located.line} case ${located.case.id}: duplicate ID (first defined at ${first.file}:${first.line})`,
      );
    } else seen.set(located.case.id, located);
  }
  if (problems.length) throw new UserError(problems.join("\n"));
  return [...seen.values()];
}
