import { DEFAULT_CONFIG_PATH, defaultConfig, parseConfig } from "./load.ts";
import type { Config } from "./schema.ts";

/**
 * The policy that judges a change: the config file as it is on the *base* side,
 * so a PR cannot loosen the rule that judges it. No file means the defaults.
 */
export function policyFromBase(text: string | null, file: string = DEFAULT_CONFIG_PATH): Config {
  return text === null ? defaultConfig() : parseConfig(text, file);
}
