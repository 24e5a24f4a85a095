import { UserError } from "../errors.ts";
import { DEFAULT_CONFIG_PATH, defaultConfig, parseConfig } from "./load.ts";
import type { Config } from "./schema.ts";

/** Who named the policy file, for the message when it is missing: a flag or an input, and where it was read. */
export interface NamedPolicy {
  /** e.g. `--config` or `Invalid input 'config'`. */
  option: string;
  /** e.g. `base 1a2b3c4`. */
  at: string;
}

/**
 * The policy that judges a change: the config file as it is on the *base* side,
 * so a PR cannot loosen the rule that judges it. No file at the default path means the
 * defaults (zero config); a file the user named that does not exist is their mistake, never a
 * silent fallback to the defaults.
 */
export function policyFromBase(
  text: string | null,
  file: string = DEFAULT_CONFIG_PATH,
  named?: NamedPolicy,
): Config {
  if (text !== null) return parseConfig(text, file);
  if (named && file !== DEFAULT_CONFIG_PATH) {
    throw new UserError(
      `${named.option}: ${file} does not exist at the ${named.at}; modelgate does not fall back to the default policy for a file you named (commit it to the base branch, or fix the path)`,
    );
  }
  return defaultConfig();
}
