import type OpenAI from "openai";
import { APIError } from "openai";
import { modelFamily } from "../core/pricing.ts";

/**
 * PRODUCT.md §7 pre-flight: every model ID the run needs must be in the provider's list
 * before anything is spent. A dated snapshot in the list serves its family ID.
 */
export async function listProviderModels(client: OpenAI): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for await (const model of client.models.list()) ids.add(model.id);
  } catch (error) {
    const status = error instanceof APIError ? ` (HTTP ${error.status})` : "";
    throw new ProviderUnavailable(
      `cannot list the provider's models${status}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  return ids;
}

export function isOffered(model: string, offered: ReadonlySet<string>): boolean {
  if (offered.has(model)) return true;
  for (const id of offered) if (modelFamily(id) === model) return true;
  return false;
}

export class ProviderUnavailable extends Error {}
