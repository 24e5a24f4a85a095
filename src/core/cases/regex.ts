import { RE2JS } from "re2js";

/**
 * User regexes (a case's `regex` assert) run on RE2 (linear time): `^(a+)+$` on a
 * 35-character answer took the JavaScript engine minutes and blocked the event loop, so not
 * even SIGTERM could end the run. RE2 has no lookaround or backreferences; such a pattern
 * is rejected when the cases load, with the case's file and line.
 */
export type CompiledRegex = { ok: true; regex: RE2JS } | { ok: false; reason: string };

const FLAG_BITS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  // RE2 always matches by code point, which is what JavaScript's `u` asks for.
  u: 0,
};

const compiled = new Map<string, CompiledRegex>();

export function compileUserRegex(pattern: string, flags = ""): CompiledRegex {
  const key = `${flags}\u0000${pattern}`;
  const known = compiled.get(key);
  if (known) return known;
  let bits = 0;
  for (const flag of flags) bits |= FLAG_BITS[flag] ?? 0;
  let result: CompiledRegex;
  try {
    result = { ok: true, regex: RE2JS.compile(pattern, bits) };
  } catch (error) {
    const detail = (error as Error).message.replace(/^error parsing regexp: /, "");
    result = {
      ok: false,
      reason: `not a supported regex (${detail}); RE2 syntax: no lookaround or backreferences`,
    };
  }
  compiled.set(key, result);
  return result;
}

/** Whether the pattern matches anywhere in `text` (JavaScript's `RegExp.test`). */
export function regexMatches(regex: RE2JS, text: string): boolean {
  return regex.matcher(text).find();
}
