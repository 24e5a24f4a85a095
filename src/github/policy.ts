import { isMap, isScalar, type Node, parseDocument } from "yaml";
import { DEFAULT_CONFIG_PATH, parseConfig } from "../core/config/load.ts";
import { policyFromBase } from "../core/config/policy.ts";
import type { Config } from "../core/config/schema.ts";
import { UserError } from "../core/errors.ts";
import { ownGet, ownRecordFrom } from "../core/own.ts";
import type { GitHub, RepoRef } from "./client.ts";
import { readFileAt } from "./contents.ts";

/** Where one layer of the policy came from. `ref` is absent for a repository's default branch. */
export interface PolicySource extends RepoRef {
  path: string;
  ref?: string;
}

export interface LoadedPolicy {
  config: Config;
  /** The files merged into `config`, the most specific first; empty when the defaults apply. */
  sources: PolicySource[];
}

const MAX_EXTENDS = 5;

/**
 * Same form as Probot's `context.config`: `repo`, `owner/repo` or `owner/repo:path.yml`.
 * Owner names follow GitHub's rules; the path must be a YAML file.
 */
const EXTENDS = /^(?:([a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38})\/)?([-_.\w]+)(?::([-_./\w]+\.ya?ml))?$/i;

/**
 * The policy that judges a PR: `.github/modelgate.yml` at `ref` (the PR's base), so a PR cannot
 * loosen the rule that judges it. As Probot's `context.config` does, a repository without
 * the file falls back to the owner's `.github` repository, and `_extends: other-repo`
 * (or `owner/repo`, `owner/repo:path.yml`) layers the file on another one read at that
 * repository's default branch. Mappings merge key by key; a list or value in the more
 * specific file replaces the inherited one (Probot concatenates lists, which would turn
 * `rollout.phases` into nonsense). No file anywhere means the defaults.
 *
 * Each file is validated on its own, so an error names the file and the line it is on.
 */
export async function loadPolicy(
  gh: GitHub,
  at: RepoRef & { ref: string; path?: string | undefined },
): Promise<LoadedPolicy> {
  const path = at.path ?? DEFAULT_CONFIG_PATH;
  const own: PolicySource = { owner: at.owner, repo: at.repo, path, ref: at.ref };
  let first: { source: PolicySource; text: string } | undefined;
  const text = await readFileAt(gh, own);
  if (text !== null) first = { source: own, text };
  else if (at.repo !== ".github") {
    const org: PolicySource = { owner: at.owner, repo: ".github", path };
    const orgText = await readFileAt(gh, org);
    if (orgText !== null) first = { source: org, text: orgText };
  }
  if (!first) return { config: policyFromBase(null, path), sources: [] };

  const layers: Array<{ source: PolicySource; raw: Record<string, unknown>; config: Config }> = [];
  let current: { source: PolicySource; text: string } | undefined = first;
  while (current) {
    const label = labelOf(current.source, own);
    const { extendsValue, text: withoutExtends } = splitExtends(current.text);
    const config = parseConfig(withoutExtends, label);
    layers.push({ source: current.source, raw: rawMapping(withoutExtends), config });
    if (extendsValue === undefined) break;
    const target = extendsTarget(extendsValue, current.source, label);
    if (layers.some((layer) => sameFile(layer.source, target)))
      throw new UserError(
        `${label}: _extends: "${String(extendsValue)}" loops back to a file already loaded`,
      );
    if (layers.length >= MAX_EXTENDS)
      throw new UserError(`${label}: _extends: more than ${MAX_EXTENDS} files chained; stopped`);
    const targetText = await readFileAt(gh, target);
    if (targetText === null) {
      throw new UserError(
        `${label}: _extends: "${String(extendsValue)}": ${labelOf(target, own)} was not found, or this app cannot read it`,
      );
    }
    current = { source: target, text: targetText };
  }
  const sources = layers.map((layer) => layer.source);
  const only = layers[0];
  if (layers.length === 1 && only) return { config: only.config, sources };
  const merged = layers.reduceRight<Record<string, unknown>>(
    (acc, layer) => mergeMappings(acc, layer.raw),
    {},
  );
  const label = `${labelOf(only?.source ?? own, own)} (merged with ${layers
    .slice(1)
    .map((layer) => labelOf(layer.source, own))
    .join(", ")})`;
  return { config: parseConfig(JSON.stringify(merged), label), sources };
}

function labelOf(source: PolicySource, own: PolicySource): string {
  return source.owner === own.owner && source.repo === own.repo
    ? source.path
    : `${source.owner}/${source.repo}:${source.path}`;
}

function sameFile(a: PolicySource, b: PolicySource): boolean {
  return (
    a.owner.toLowerCase() === b.owner.toLowerCase() &&
    a.repo.toLowerCase() === b.repo.toLowerCase() &&
    a.path === b.path
  );
}

function extendsTarget(value: unknown, from: PolicySource, label: string): PolicySource {
  const match = typeof value === "string" ? EXTENDS.exec(value.trim()) : null;
  if (!match) {
    throw new UserError(
      `${label}: _extends: expected "repo", "owner/repo" or "owner/repo:path.yml", found ${JSON.stringify(value)}`,
    );
  }
  return { owner: match[1] ?? from.owner, repo: match[2] ?? from.repo, path: match[3] ?? from.path };
}

/**
 * Takes the top-level `_extends` key out of a YAML file. In block style its characters are
 * blanked, so the lines of every other key (and of every validation error) stay where they were.
 */
function splitExtends(text: string): { extendsValue: unknown; text: string } {
  const document = parseDocument(text, { uniqueKeys: true });
  const contents = document.contents;
  if (document.errors.length > 0 || !isMap(contents)) return { extendsValue: undefined, text };
  const pair = contents.items.find((item) => isScalar(item.key) && item.key.value === "_extends");
  if (!pair) return { extendsValue: undefined, text };
  const value = pair.value as Node | null;
  const extendsValue = isScalar(value) ? value.value : value?.toJSON();
  const key = pair.key as Node;
  const start = key.range?.[0];
  const end = value?.range?.[1] ?? key.range?.[1];
  if (contents.flow || start === undefined || end === undefined) {
    contents.delete("_extends");
    return { extendsValue, text: document.toString() };
  }
  const blanked = text.slice(start, end).replace(/[^\n]/g, " ");
  return { extendsValue, text: text.slice(0, start) + blanked + text.slice(end) };
}

function rawMapping(text: string): Record<string, unknown> {
  const value: unknown = parseDocument(text).toJS();
  return isPlainObject(value) ? value : {};
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `over` wins: mappings merge key by key, anything else replaces. */
function mergeMappings(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  // Keys are repo text (a model ID under `pricing` may be `__proto__`): no prototype to hit.
  const out = ownRecordFrom(Object.entries(base));
  for (const [key, value] of Object.entries(over)) {
    const inherited = ownGet(out, key);
    out[key] = isPlainObject(inherited) && isPlainObject(value) ? mergeMappings(inherited, value) : value;
  }
  return out;
}
