import { ownGet } from "../core/own.ts";
import { type ProviderMap, parseProviderMap } from "../core/providers.ts";
import { redactUrl } from "../core/text/redact-url.ts";
import { directoryCache } from "./cache.ts";
import { openProvider, type Provider } from "./provider.ts";
import type { RouteTarget } from "./provider-routing.ts";
import { readUserFile } from "./user-file.ts";

/** The environment variable that holds the provider map when no input or flag sets one. */
export const PROVIDERS_ENV = "MODELGATE_PROVIDERS";

export interface ProviderMapText {
  /** How errors name it: `MODELGATE_PROVIDERS`, `providers` (the input), `--providers`. */
  source: string;
  text: string;
}

/**
 * The map's text: the door's own setting (input or flag) wins over the environment; neither set
 * is an empty map (every model goes to `default`).
 */
export function providerMapText(
  setting: ProviderMapText | undefined,
  env: NodeJS.ProcessEnv,
): ProviderMapText | undefined {
  if (setting && setting.text.trim() !== "") return setting;
  const fromEnv = ownGet(env, PROVIDERS_ENV);
  return fromEnv && fromEnv.trim() !== "" ? { source: PROVIDERS_ENV, text: fromEnv } : undefined;
}

/** `--providers FILE|JSON`: inline JSON/YAML when it looks like a mapping, else a file to read. */
export async function readProvidersFlag(value: string): Promise<ProviderMapText> {
  const inline = value.trimStart();
  if (inline.startsWith("{") || value.includes("\n")) return { source: "--providers", text: value };
  const text = await readUserFile(
    value,
    "--providers",
    '(expected a file, or inline JSON such as {"anthropic": {"base_url": "…", "api_key_env": "ANTHROPIC_API_KEY"}})',
  );
  return { source: `--providers ${value}`, text };
}

export function parseProviderMapText(text: ProviderMapText | undefined): ProviderMap {
  return text ? parseProviderMap(text.text, text.source) : new Map();
}

/**
 * One client per provider of the map. Each key is read from the variable the map names and
 * never printed; an unset one makes the provider keyless, which pre-flight accepts only from a
 * modelgate simulator (the rule of the default provider), else the run stops naming the variable.
 */
export async function openProviderMap(
  map: ProviderMap,
  env: NodeJS.ProcessEnv,
  source: string,
  options: { maxRetries?: number } = {},
): Promise<Map<string, Provider>> {
  const opened = new Map<string, Provider>();
  for (const [name, spec] of map) {
    const apiKey = ownGet(env, spec.api_key_env);
    const provider = await openProvider({
      baseURL: spec.base_url,
      apiKey: apiKey === "" ? undefined : apiKey,
      maxRetries: options.maxRetries,
    });
    opened.set(name, {
      ...provider,
      label: `${name} (${redactUrl(spec.base_url)})`,
      ...(provider.keyless
        ? {
            keyless: `no API key for provider ${name} (${redactUrl(spec.base_url)}): ${spec.api_key_env} is not set (${source}.${name}.api_key_env)`,
          }
        : {}),
    });
  }
  return opened;
}

export async function closeAll(providers: Iterable<Provider>): Promise<void> {
  await Promise.all([...providers].map((provider) => provider.close()));
}

/** What `evaluate()` takes per provider of the map: its client and its own cache in `cacheDir`. */
export function routeTargets(
  named: ReadonlyMap<string, Provider>,
  cacheDir: string | undefined,
  log: (message: string) => void,
): Map<string, RouteTarget> {
  return new Map(
    [...named].map(([name, provider]) => [
      name,
      {
        client: provider.client,
        simulated: provider.simulated,
        keyless: provider.keyless,
        label: provider.label,
        identity: provider.identity.text,
        cache: cacheDir ? directoryCache(cacheDir, provider.identity, log) : undefined,
      },
    ]),
  );
}
