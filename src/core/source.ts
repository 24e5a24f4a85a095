/**
 * One side of a comparison (the base or the head revision), however it is read:
 * a local git commit, or a SHA through GitHub's REST API. Injected into the engine,
 * so the engine never knows where files come from.
 */
export interface TreeSource {
  /** e.g. "base 1a2b3c4". */
  label: string;
  /** Text of each file; `null` when missing or binary. */
  readFiles(paths: readonly string[]): Promise<Map<string, string | null>>;
  /** Every file path of the tree (case files are found by matching these against `evals.cases`). */
  listFiles(): Promise<string[]>;
}
