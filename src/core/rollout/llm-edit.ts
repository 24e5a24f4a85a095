import type { Config } from "../config/schema.ts";
import { UserError } from "../errors.ts";
import { splitKeyPath, unquoteSegment } from "../keys.ts";
import { type LlmDocument, routeEntries, valueAt } from "../llm-config.ts";
import { sameModel } from "../pricing.ts";
import { editStructured } from "../structured-edit.ts";

/**
 * Reading and writing the rollout state in the app's LLM config (issue 6, points 1 and 6):
 * the candidate's traffic share at `rollout.key`, and the rollback edit (share → 0, routes on
 * the candidate → `models.rollback`). Pure: text in, text out. Edits keep the file's shape
 * (JSON indentation, YAML comments and order, env lines) so the diff shows only the change.
 */

export type RolloutKeys = Pick<Config["rollout"], "key" | "candidate_key" | "rollback_key"> &
  Pick<Config["llm"], "routes_key" | "default_model_key">;

export function rolloutKeys(config: Config): RolloutKeys {
  return {
    key: config.rollout.key,
    candidate_key: config.rollout.candidate_key,
    rollback_key: config.rollout.rollback_key,
    routes_key: config.llm.routes_key,
    default_model_key: config.llm.default_model_key,
  };
}

/**
 * The candidate's traffic share in percent. A missing key is 0 (no rollout yet); anything but
 * a number from 0 to 100 (or such a string, in env files) is the user's to fix.
 */
export function readShare(doc: LlmDocument, key: string): number {
  const raw = valueAt(doc, key);
  if (raw === undefined || raw === null) return 0;
  const share = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof share !== "number" || !Number.isFinite(share) || share < 0 || share > 100) {
    throw new UserError(
      `${doc.file} ${key}: expected a traffic share from 0 to 100, found ${JSON.stringify(raw)}`,
    );
  }
  return share;
}

/** A model ID at a key, or undefined when the key is absent or empty. */
export function readModel(doc: LlmDocument, key: string): string | undefined {
  const raw = valueAt(doc, key);
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") {
    throw new UserError(`${doc.file} ${key}: expected a model ID string, found ${JSON.stringify(raw)}`);
  }
  return raw;
}

export interface KeyEdit {
  /** Dot path (JSON/YAML) or variable name (env). */
  key: string;
  from: unknown;
  to: string | number;
}

/** The text with the share at `key` set to `share`. */
export function setShare(doc: LlmDocument, key: string, share: number): string {
  return applyEdits(doc, [{ segments: segmentsOf(doc, key), key, from: valueAt(doc, key), to: share }]);
}

export interface RollbackEdit {
  text: string;
  edits: KeyEdit[];
  candidate: string | undefined;
  rollback: string;
}

/**
 * The rollback config: the share at `rollout.key` → 0, and every route (and the default model)
 * on the candidate, or on a dated snapshot of it, → the rollback model. The App's rollback PR
 * commits exactly this; the Action's rollback rehearsal evaluates exactly this.
 */
export function rollbackEdit(doc: LlmDocument, keys: RolloutKeys): RollbackEdit {
  const rollback = readModel(doc, keys.rollback_key);
  if (rollback === undefined) {
    throw new UserError(
      `${doc.file} ${keys.rollback_key}: no rollback model; name the model to go back to (e.g. "models": {"rollback": "gpt-5.4"})`,
    );
  }
  const candidate = readModel(doc, keys.candidate_key);
  const edits: Array<KeyEdit & { segments: string[] }> = [];
  const share = valueAt(doc, keys.key);
  // A missing share is 0 already (readShare): nothing to write.
  if (share !== undefined && share !== 0 && share !== "0") {
    edits.push({ segments: segmentsOf(doc, keys.key), key: keys.key, from: share, to: 0 });
  }
  if (candidate !== undefined && !sameModel(rollback, candidate)) {
    // sameModel(wanted, actual): a route on a dated snapshot of the candidate is on the candidate.
    const onCandidate = (model: unknown): boolean => typeof model === "string" && sameModel(candidate, model);
    const defaultModel = valueAt(doc, keys.default_model_key);
    if (onCandidate(defaultModel)) {
      edits.push({
        segments: segmentsOf(doc, keys.default_model_key),
        key: keys.default_model_key,
        from: defaultModel,
        to: rollback,
      });
    }
    for (const route of routeEntries(doc, keys.routes_key)) {
      if (onCandidate(route.model)) {
        edits.push({ segments: route.segments, key: route.modelKey, from: route.model, to: rollback });
      }
    }
  }
  return { text: edits.length ? applyEdits(doc, edits) : doc.text, edits, candidate, rollback };
}

function segmentsOf(doc: LlmDocument, key: string): string[] {
  if (doc.kind === "env") return [key];
  return splitKeyPath(key).map((segment) => unquoteSegment(segment) ?? segment);
}

function applyEdits(doc: LlmDocument, edits: ReadonlyArray<KeyEdit & { segments: string[] }>): string {
  if (doc.kind === "env") return editEnv(doc.text, edits);
  const values = edits.map((edit) => ({ path: edit.segments, to: edit.to, key: edit.key }));
  return editStructured(doc.kind, doc.text, values, doc.file);
}

function editEnv(text: string, edits: ReadonlyArray<KeyEdit>): string {
  let lines = text.split("\n");
  for (const edit of edits) {
    const name = edit.key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = new RegExp(`^(\\s*(?:export\\s+)?${name}\\s*=).*$`);
    let found = false;
    lines = lines.map((line) => {
      if (!pattern.test(line)) return line;
      found = true;
      // A function replacer: "$1" followed by a digit of the value would read as group 10.
      return line.replace(pattern, (_match, head: string) => `${head}${String(edit.to)}`);
    });
    if (!found) {
      const insertAt = lines.at(-1) === "" ? lines.length - 1 : lines.length;
      lines.splice(insertAt, 0, `${edit.key}=${String(edit.to)}`);
    }
  }
  return lines.join("\n");
}
