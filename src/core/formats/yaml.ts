import {
  type Document,
  isAlias,
  isCollection,
  isPair,
  isScalar,
  LineCounter,
  parseAllDocuments,
  visit,
  type YAMLError,
  type YAMLWarning,
} from "yaml";
import { FormatError, type FormatWarning, type ReadDocument, reasonOf } from "./read-result.ts";

/**
 * Nodes a YAML document may hold once every alias is counted as a copy of what it names (a merge
 * key `<<: *defaults` included). Aliases may be used any number of times; this bounds what they
 * expand to, which is what an alias bomb attacks (docs/attribution.md, limits).
 */
export const MAX_EXPANDED_YAML_NODES = 1_000_000;

/**
 * YAML as the apps that write it read it (PyYAML, js-yaml): a repeated key keeps its last value
 * (with a warning), merge keys are resolved, custom tags (`!Ref`, `!!python/name:…`) are read as
 * the plain value they tag (with a warning), and a stream of several documents reads as a list of
 * them, so `1.spec.replicas` is a key of the second document. Parser warnings are collected here,
 * never printed.
 */
export function readYaml(text: string): ReadDocument {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { uniqueKeys: false, merge: true, lineCounter });
  // An empty stream (or only comments) is an empty document.
  if (!Array.isArray(documents)) return { value: null, warnings: [] };
  const line = (offset: number | undefined) =>
    offset === undefined ? null : lineCounter.linePos(offset).line;
  const warnings: FormatWarning[] = [];
  const values = documents.map((document) => {
    const [error] = document.errors;
    if (error) throw new FormatError(reasonOf(error.message), positionLine(error), fixFor(error));
    for (const warning of document.warnings) warnings.push(describeWarning(warning));
    warnings.push(...duplicateKeys(document, line));
    const expanded = expandedNodes(document);
    if (expanded > MAX_EXPANDED_YAML_NODES) {
      throw new FormatError(
        `its aliases expand to more than ${MAX_EXPANDED_YAML_NODES.toLocaleString("en-US")} nodes`,
        null,
        "use fewer nested aliases (each alias counts as a copy of what it names)",
      );
    }
    return document.toJS({ maxAliasCount: -1 }) as unknown;
  });
  return { value: values.length <= 1 ? (values[0] ?? null) : values, warnings };
}

function positionLine(error: YAMLError | YAMLWarning): number | null {
  return error.linePos?.[0]?.line ?? null;
}

function fixFor(error: YAMLError): string {
  return error.code === "DUPLICATE_KEY" ? "remove or rename the duplicate key" : "fix the YAML so it parses";
}

function describeWarning(warning: YAMLWarning): FormatWarning {
  const tag = /^Unresolved tag: (\S+)/.exec(warning.message)?.[1];
  const message =
    warning.code === "TAG_RESOLVE_FAILED" && tag !== undefined
      ? `custom tag ${tag.replace(/^tag:yaml\.org,2002:/, "!!")} is read as the plain value it tags`
      : reasonOf(warning.message);
  return { line: positionLine(warning), message };
}

/** YAML 1.1 readers (PyYAML) keep the last of repeated keys; say so, with the line of each repeat. */
function duplicateKeys(
  document: Document,
  line: (offset: number | undefined) => number | null,
): FormatWarning[] {
  const warnings: FormatWarning[] = [];
  visit(document, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === "<<") continue;
        if (seen.has(key)) {
          warnings.push({
            line: line(pair.key.range?.[0]),
            message: `duplicate key ${JSON.stringify(key)}: the last one wins (as YAML 1.1 readers such as PyYAML do)`,
          });
        }
        seen.add(key);
      }
    },
  });
  return warnings;
}

/**
 * Nodes of the document with every alias expanded, computed without expanding anything: each
 * anchored node's size is counted once and reused. An alias to a node that contains it would
 * expand forever and is refused.
 */
function expandedNodes(document: Document): number {
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = node.resolve(document);
      return target === undefined ? 1 : size(target);
    }
    if (isPair(node)) return size(node.key) + size(node.value);
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) {
      throw new FormatError(
        "an alias refers to the node that contains it",
        null,
        "remove the recursive alias",
      );
    }
    open.add(node);
    let total = 1;
    for (const item of node.items) total += size(item);
    open.delete(node);
    sizes.set(node, total);
    return total;
  };
  return size(document.contents);
}
