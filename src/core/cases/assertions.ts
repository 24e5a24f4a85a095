import { Ajv } from "ajv";
import { ownGet } from "../own.ts";
import { compileUserRegex, regexMatches } from "./regex.ts";
import type { Assertion, EvalCase } from "./schema.ts";

/** What one attempt produced: the final text and every tool call made along the way. */
export interface Answer {
  text: string;
  toolCalls: ReadonlyArray<{ name: string; arguments: string }>;
}

export type Check = { ok: true } | { ok: false; reason: string };

export type JudgeVerdict = { pass: boolean; reason: string };

const ajv = new Ajv({ allErrors: false, strict: false });
const compiledSchemas = new Map<string, ReturnType<typeof ajv.compile>>();

/** Checks one assertion against an answer. `judge` assertions need a verdict from a judge model. */
export function checkAssertion(assertion: Assertion, answer: Answer, judged?: JudgeVerdict): Check {
  switch (assertion.type) {
    case "equals":
      return answer.text.trim() === assertion.value.trim()
        ? OK
        : fail(`expected exactly ${quote(assertion.value)}`);
    case "contains":
      return includes(answer.text, assertion.value, assertion.ignore_case)
        ? OK
        : fail(`expected the answer to contain ${quote(assertion.value)}`);
    case "not_contains":
      return includes(answer.text, assertion.value, assertion.ignore_case)
        ? fail(`expected the answer not to contain ${quote(assertion.value)}`)
        : OK;
    case "regex": {
      // Validated when the cases load; a pattern that still does not compile never passes.
      const compiled = compileUserRegex(assertion.value, assertion.flags);
      if (!compiled.ok) return fail(`regex /${assertion.value}/: ${compiled.reason}`);
      return regexMatches(compiled.regex, answer.text)
        ? OK
        : fail(`expected the answer to match /${assertion.value}/${assertion.flags ?? ""}`);
    }
    case "json_schema":
      return checkJsonSchema(assertion.schema, answer.text);
    case "tool_called":
      return checkToolCalled(assertion.name, assertion.args, answer);
    case "judge":
      if (!judged) return fail("judge verdict missing");
      return judged.pass ? OK : fail(`judge: ${judged.reason}`);
  }
}

export type AnswerOutcome = { outcome: "pass" | "takeover" } | { outcome: "fail"; reason: string };

/**
 * docs/cases.md: the takeover condition is checked first; then every assert must hold.
 * `judged` holds the verdicts of the case's `judge` asserts, by their index in `assert`;
 * without it the judge asserts are left for later (they cost a model call, so they run
 * only once everything else holds).
 */
export function judgeAnswer(
  testCase: EvalCase,
  answer: Answer,
  judged?: ReadonlyMap<number, JudgeVerdict>,
): AnswerOutcome {
  if (testCase.takeover && checkAssertion(testCase.takeover, answer).ok) return { outcome: "takeover" };
  for (const [index, assertion] of testCase.assert.entries()) {
    if (assertion.type === "judge" && judged === undefined) continue;
    const check = checkAssertion(assertion, answer, judged?.get(index));
    if (!check.ok) return { outcome: "fail", reason: check.reason };
  }
  return { outcome: "pass" };
}

/** Indices of the judge asserts, which cost a model call and so run only when everything else passed. */
export function judgeAssertions(
  testCase: EvalCase,
): Array<{ index: number; rubric: string; model?: string }> {
  return testCase.assert.flatMap((assertion, index) =>
    assertion.type === "judge"
      ? [{ index, rubric: assertion.rubric, ...(assertion.model ? { model: assertion.model } : {}) }]
      : [],
  );
}

const OK: Check = { ok: true };

function fail(reason: string): Check {
  return { ok: false, reason };
}

function includes(text: string, value: string, ignoreCase = false): boolean {
  return ignoreCase ? text.toLowerCase().includes(value.toLowerCase()) : text.includes(value);
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** Strict: the whole answer must be JSON. Prose or a code fence around it is the format drift we gate on. */
function checkJsonSchema(schema: Record<string, unknown>, text: string): Check {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return fail("expected the answer to be JSON, but it does not parse");
  }
  const key = JSON.stringify(schema);
  let validate = compiledSchemas.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiledSchemas.set(key, validate);
  }
  if (validate(value)) return OK;
  const first = validate.errors?.[0];
  return fail(
    `JSON does not match the schema: ${first ? `${first.instancePath || "(root)"} ${first.message}` : "invalid"}`,
  );
}

function checkToolCalled(name: string, args: Record<string, unknown> | undefined, answer: Answer): Check {
  const calls = answer.toolCalls.filter((call) => call.name === name);
  if (calls.length === 0) return fail(`expected a call to tool ${quote(name)}`);
  if (!args) return OK;
  const matching = calls.some((call) => {
    try {
      return isSubset(args, JSON.parse(call.arguments));
    } catch {
      return false;
    }
  });
  return matching
    ? OK
    : fail(`expected a call to ${quote(name)} with arguments including ${JSON.stringify(args)}`);
}

function isSubset(expected: unknown, actual: unknown): boolean {
  if (expected === null || typeof expected !== "object") return Object.is(expected, actual);
  if (actual === null || typeof actual !== "object") return false;
  return Object.entries(expected).every(([key, value]) =>
    isSubset(value, ownGet(actual as Record<string, unknown>, key)),
  );
}
