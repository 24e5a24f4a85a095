import type { Classification } from "./classify/classify.ts";
import type { Warning } from "./result.ts";

const ENDPOINT_KEY =
  /(^|[._])(base_?url|api_?base|api_?url|endpoint|openai_base_url|azure_openai_endpoint)$/i;

/**
 * docs/action.md#security: a PR that sets a provider endpoint in repo files is warned about, and that
 * endpoint receives nothing (the provider comes only from inputs and the environment).
 */
export function endpointWarnings(classification: Classification): Warning[] {
  const warnings: Warning[] = [];
  for (const file of classification.files) {
    if (file.status === "removed") continue;
    for (const key of file.keys) {
      if (ENDPOINT_KEY.test(key.path))
        warnings.push({ code: "endpoint_in_repo", file: file.path, key: key.path });
    }
  }
  return warnings;
}
