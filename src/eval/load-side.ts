import picomatch from "picomatch";
import { mergeCases, parseCaseFile } from "../core/cases/parse.ts";
import type { LocatedCase } from "../core/cases/schema.ts";
import type { Config } from "../core/config/schema.ts";
import { UserError } from "../core/errors.ts";
import { emptyLlmConfig, type LlmConfig, readLlmConfig } from "../core/llm-config.ts";
import type { TreeSource } from "../core/source.ts";

/** What one side of the comparison brings: its LLM config and the case files it has. */
export interface LoadedSide {
  source: TreeSource;
  llm: LlmConfig;
  /** Whether `llm.config` exists on this side (without it there are no routes to compare). */
  llmFound: boolean;
  caseFiles: Map<string, string>;
}

export async function loadSide(source: TreeSource, config: Config): Promise<LoadedSide> {
  const [files, allPaths] = await Promise.all([source.readFiles([config.llm.config]), source.listFiles()]);
  const text = files.get(config.llm.config) ?? null;
  // The path decides the format; the label only names the side in messages.
  const llm =
    text === null
      ? emptyLlmConfig()
      : readLlmConfig(text, config.llm.config, config, `${config.llm.config} (${source.label})`);
  // The app's own caps are applied in the eval: one that cannot be read cannot be applied.
  if (llm.token_caps.problem) throw new UserError(llm.token_caps.problem);
  const isCaseFile = picomatch(config.evals.cases, { dot: true });
  const casePaths = allPaths.filter((path) => isCaseFile(path)).sort();
  const caseTexts = await source.readFiles(casePaths);
  const caseFiles = new Map<string, string>();
  for (const [path, content] of caseTexts) if (content !== null) caseFiles.set(path, content);
  return { source, llm, llmFound: text !== null, caseFiles };
}

/** Parses a side's case files; errors name file:line and the field. */
export function parseCases(side: LoadedSide): LocatedCase[] {
  return mergeCases([...side.caseFiles].map(([path, text]) => parseCaseFile(text, path)));
}

/** The base's cases are only compared with the head's: a broken base suite must not block the head. */
export function parseCasesLeniently(side: LoadedSide): LocatedCase[] | undefined {
  try {
    return parseCases(side);
  } catch (error) {
    if (error instanceof UserError) return undefined;
    throw error;
  }
}
