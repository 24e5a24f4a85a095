/**
 * Cross-provider comparisons (docs/action.md#providers): the provider map the workflow or the
 * environment sets (name → base URL + the env var holding its key), and the policy's model
 * patterns that pick a provider by name. Pure: text in, data out. Endpoints and keys never come
 * from repo files; the policy only names providers.
 */
import { UserError } from "./errors.ts";
import { FormatError } from "./formats/read-result.ts";
import { readYaml } from "./formats/yaml.ts";
import { ownGet, ownRecord } from "./own.ts";
import type { EvalResult, Warning } from "./result.ts";

/** The provider of `OPENAI_BASE_URL` / `OPENAI_API_KEY` (or the built-in simulator). */
export const DEFAULT_PROVIDER = "default";

export const PROVIDER_NAME = /^[a-z0-9_-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ProviderSpec {
  base_url: string;
  /** The environment variable holding the key (its value is never in the map). */
  api_key_env: string;
}

/** Name → spec, in the map's order. `default` is never in it: that one is OPENAI_BASE_URL. */
export type ProviderMap = ReadonlyMap<string, ProviderSpec>;

/** One policy rule: model IDs matching `models` go to `provider`. */
export interface ProviderRule {
  models: string | string[];
  provider: string;
}

/**
 * Parses the map from JSON or YAML. `source` names where it came from in every error
 * (`MODELGATE_PROVIDERS`, input `providers`, `--providers FILE`): the text is the workflow's
 * own, so anything unexpected fails closed rather than being guessed at.
 */
export function parseProviderMap(text: string, source: string): ProviderMap {
  let value: unknown;
  try {
    const read = readYaml(text);
    // A repeated name would silently keep one of two endpoints.
    const [warning] = read.warnings;
    if (warning) {
      throw new UserError(
        `${source}: ${warning.message}${warning.line ? ` (line ${warning.line})` : ""}: the provider map must be plain JSON or YAML`,
      );
    }
    value = read.value;
  } catch (error) {
    if (error instanceof FormatError) {
      throw new UserError(
        `${source}: not JSON or YAML${error.line ? ` (line ${error.line})` : ""}: ${error.message}; expected {<name>: {base_url: "https://…/v1", api_key_env: "NAME"}}`,
      );
    }
    throw error;
  }
  const map = new Map<string, ProviderSpec>();
  if (value === null || value === undefined || (typeof value === "string" && value.trim() === "")) return map;
  if (!isPlainObject(value)) {
    throw new UserError(
      `${source}: expected a mapping of provider names to {base_url, api_key_env}, found ${describe(value)}`,
    );
  }
  for (const name of Object.keys(value)) {
    const at = `${source}.${name}`;
    if (!PROVIDER_NAME.test(name)) {
      throw new UserError(`${at}: a provider name is lowercase letters, digits, '-' and '_'`);
    }
    if (name === DEFAULT_PROVIDER) {
      throw new UserError(
        `${at}: '${DEFAULT_PROVIDER}' is the provider of OPENAI_BASE_URL / OPENAI_API_KEY; give this one another name`,
      );
    }
    const entry = ownGet(value as Record<string, unknown>, name);
    if (!isPlainObject(entry)) {
      throw new UserError(`${at}: expected {base_url, api_key_env}, found ${describe(entry)}`);
    }
    for (const key of Object.keys(entry)) {
      if (key !== "base_url" && key !== "api_key_env") {
        const hint = /key/i.test(key)
          ? " (the key itself goes in the environment variable api_key_env names)"
          : "";
        throw new UserError(`${at}.${key}: unknown key; expected base_url and api_key_env${hint}`);
      }
    }
    const baseUrl = ownGet(entry as Record<string, unknown>, "base_url");
    if (typeof baseUrl !== "string" || !isHttpUrl(baseUrl)) {
      throw new UserError(`${at}.base_url: expected an http(s) URL such as https://api.example.com/v1`);
    }
    const keyEnv = ownGet(entry as Record<string, unknown>, "api_key_env");
    if (typeof keyEnv !== "string" || !ENV_NAME.test(keyEnv)) {
      throw new UserError(
        `${at}.api_key_env: expected the name of the environment variable holding the key (e.g. ANTHROPIC_API_KEY)`,
      );
    }
    map.set(name, { base_url: baseUrl, api_key_env: keyEnv });
  }
  return map;
}

/** The provider a model goes to: the first rule whose pattern matches, else `default`. */
export function providerFor(model: string, rules: readonly ProviderRule[]): string {
  for (const rule of rules) {
    const patterns = typeof rule.models === "string" ? [rule.models] : rule.models;
    if (patterns.some((pattern) => globMatch(pattern, model))) return rule.provider;
  }
  return DEFAULT_PROVIDER;
}

/**
 * Fails closed when the policy names a provider the workflow did not define: its models would
 * otherwise go to the default endpoint, a vendor the policy did not mean.
 */
export function checkPolicyProviders(
  rules: readonly ProviderRule[],
  known: ReadonlySet<string>,
  mapSource: string,
): void {
  rules.forEach((rule, index) => {
    if (rule.provider === DEFAULT_PROVIDER || known.has(rule.provider)) return;
    const defined = [...known].filter((name) => name !== DEFAULT_PROVIDER);
    throw new UserError(
      `policy evals.providers[${index}].provider: '${rule.provider}' is not in the provider map (${defined.length ? `it has ${defined.join(", ")}` : "none is set"}); define it in ${mapSource}, e.g. {${rule.provider}: {base_url: "https://…/v1", api_key_env: "${rule.provider.toUpperCase().replace(/-/g, "_")}_API_KEY"}}`,
    );
  });
}

/** A setting of a provider entry that only the workflow may make: endpoints and keys. */
const WORKFLOW_ONLY_KEY = /^(url|base_?url|api_?base|api_?url|endpoint|api_?key(_?env)?)$/i;

export function isWorkflowOnlySetting(key: string): boolean {
  return WORKFLOW_ONLY_KEY.test(key);
}

/**
 * The policy's provider entries may carry endpoint or key settings (someone copied a map into
 * the repo): those are ignored, and each is warned about, like an endpoint in the LLM config.
 */
export function policyProviderWarnings(rules: readonly object[], policyFile: string): Warning[] {
  const warnings: Warning[] = [];
  rules.forEach((rule, index) => {
    for (const key of Object.keys(rule)) {
      if (isWorkflowOnlySetting(key)) {
        warnings.push({
          code: "endpoint_in_repo",
          file: policyFile,
          key: `evals.providers[${index}].${key}`,
        });
      }
    }
  });
  return warnings;
}

/**
 * `*` any run of characters (`/` included: gateway IDs look like `anthropic/claude-…`), `?` one.
 * Matched without a regex, in O(pattern × model), whatever the pattern.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

function isPlainObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null || value === undefined) return "nothing";
  return `a ${typeof value}`;
}

type ProvidersRecord = NonNullable<EvalResult["providers"]>;

/** Shards of one run name the providers of their slices: the merged result names them all. */
export function mergeProviders(
  records: ReadonlyArray<ProvidersRecord | undefined>,
): ProvidersRecord | undefined {
  const present = records.filter((record): record is ProvidersRecord => record !== undefined);
  if (present.length === 0) return undefined;
  const routes = ownRecord<ProvidersRecord["routes"][string]>();
  for (const record of present) {
    for (const [route, sides] of Object.entries(record.routes))
      routes[route] = { ...ownGet(routes, route), ...sides };
  }
  const union = (side: "base" | "head") => [...new Set(present.flatMap((record) => record[side]))].sort();
  return { base: union("base"), head: union("head"), routes };
}
