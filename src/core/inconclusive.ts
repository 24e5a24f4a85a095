import type { ChangeCategory } from "./classify/classify.ts";
import type { EvalResult } from "./result.ts";

/**
 * What an `inconclusive` verdict means for the PR (docs/results.md): the policy's
 * `gates.on_inconclusive`, or by default `fail` when the change includes a model change and
 * `neutral` otherwise. A model migration that could not be shown safe must not merge on a
 * neutral check, which branch protection treats as passing; a prompt or infra tweak may.
 */
export function resolveOnInconclusive(
  configured: "fail" | "neutral" | undefined,
  categories: readonly ChangeCategory[],
): "fail" | "neutral" {
  return configured ?? (categories.includes("model") ? "fail" : "neutral");
}

/**
 * True when the result blocks the change: the verdict is `fail`, or `inconclusive` with a
 * resolved `on_inconclusive: fail`. Files written before the key existed read as `neutral`,
 * what they were published as.
 */
export function resultBlocks(result: Pick<EvalResult, "verdict" | "gates_config">): boolean {
  if (result.verdict === "fail") return true;
  return result.verdict === "inconclusive" && result.gates_config?.on_inconclusive === "fail";
}

/** The check-run conclusion of a result: what every door publishes and the App reads back. */
export function checkConclusionOf(
  result: Pick<EvalResult, "verdict" | "gates_config">,
): "success" | "failure" | "neutral" | "skipped" {
  switch (result.verdict) {
    case "pass":
      return "success";
    case "fail":
      return "failure";
    case "inconclusive":
      return resultBlocks(result) ? "failure" : "neutral";
    case "skipped":
      return "skipped";
  }
}
