import type OpenAI from "openai";
import { APIError } from "openai";
import { modelFamily } from "../core/pricing.ts";
import { SIMULATED_HEADER } from "../simulator/index.ts";

/** A hung `GET /models` used to wait out the SDK's 300 s × 3 and ignore SIGTERM. */
export const PREFLIGHT_TIMEOUT_MS = 15_000;

export class PreflightInterrupted extends Error {}

/**
 * docs/results.md pre-flight: every model ID the run needs must be in the provider's list
 * before anything is spent. A dated snapshot in the list serves its family ID. The whole
 * listing (every page, one retry) gets `timeoutMs`, and the run's signal ends it at once.
 */
export interface ProviderModels {
  ids: Set<string>;
  /**
   * The endpoint is a modelgate simulator (`modelgate simulate`): it says so on every response.
   * Its numbers are labelled simulated, and it needs no key.
   */
  simulated: boolean;
}

export async function listProviderModels(
  client: OpenAI,
  options: { timeoutMs?: number; signal?: AbortSignal | undefined } = {},
): Promise<ProviderModels> {
  const timeoutMs = options.timeoutMs ?? PREFLIGHT_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const ids = new Set<string>();
  let simulated = false;
  try {
    const { data: page, response } = await client.models
      .list({ timeout: timeoutMs, maxRetries: 1, signal })
      .withResponse();
    simulated = response.headers.get(SIMULATED_HEADER) === "true";
    for await (const model of page) ids.add(model.id);
  } catch (error) {
    if (options.signal?.aborted) throw new PreflightInterrupted("interrupted");
    if (deadline.aborted) {
      throw new ProviderUnavailable(
        `cannot list the provider's models: no answer from GET /models within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    const status = error instanceof APIError && error.status !== undefined ? ` (HTTP ${error.status})` : "";
    throw new ProviderUnavailable(
      `cannot list the provider's models${status}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  return { ids, simulated };
}

export function isOffered(model: string, offered: ReadonlySet<string>): boolean {
  if (offered.has(model)) return true;
  for (const id of offered) if (modelFamily(id) === model) return true;
  return false;
}

export class ProviderUnavailable extends Error {
  /** The provider map's name of the provider that failed (absent: the `default` provider). */
  provider?: string;
}
