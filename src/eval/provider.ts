import type OpenAI from "openai";
import { UserError } from "../core/errors.ts";
import { redactUrl } from "../core/text/redact-url.ts";
import {
  builtinProfiles,
  ProfileError,
  readProfileFile,
  type Simulator,
  startSimulator,
} from "../simulator/index.ts";
import { endpointIdentity, type ProviderIdentity, simulatorIdentity } from "./cache.ts";
import { createOpenAIClient, DEFAULT_BASE_URL } from "./openai-client.ts";

export interface Provider {
  client: OpenAI;
  /** True for the built-in simulator: its numbers are labelled simulated everywhere. */
  simulated: boolean;
  /** For people: where requests go (never the key). */
  label: string;
  /** What keys its attempts in the cache: another provider's entries never answer for this one. */
  identity: ProviderIdentity;
  /**
   * Set when an endpoint was given without a key: the run may go on only if pre-flight's
   * `GET /models` shows the endpoint is a modelgate simulator; otherwise this is the error.
   */
  keyless?: string;
  close(): Promise<void>;
}

export interface ProviderRequest {
  baseURL?: string | undefined;
  apiKey?: string | undefined;
  /** A simulator profile file layered over the built-ins (only for the simulator). */
  simulatorProfile?: string | undefined;
  /** Simulated latencies × this (the demo and tests shorten them). */
  simulatorTimeScale?: number | undefined;
  maxRetries?: number | undefined;
}

/** Sent as the bearer when no key is set: only ever accepted by a simulator, which ignores keys. */
const NO_KEY = "modelgate-no-key";

/**
 * The endpoint and key come only from flags or the environment, never from repo files.
 * With neither, the built-in simulator answers on loopback, so nobody needs a key to try it.
 */
export async function openProvider(request: ProviderRequest): Promise<Provider> {
  if (request.baseURL || request.apiKey) {
    const baseURL = request.baseURL || DEFAULT_BASE_URL;
    // Printed in logs and errors: never with the credentials a URL can carry.
    const shown = redactUrl(baseURL);
    if (request.simulatorProfile) {
      // Silently ignoring it would let someone believe their profile shaped real numbers.
      throw new UserError(
        `a simulator profile (${request.simulatorProfile}) only applies to the built-in simulator, but the provider is ${shown}: unset OPENAI_BASE_URL / OPENAI_API_KEY or drop the profile`,
      );
    }
    const noKey = `no API key for ${shown}: set OPENAI_API_KEY (or pass --api-key-env NAME)`;
    const client = createOpenAIClient({
      baseURL,
      // A simulator ignores keys; any other endpoint is refused after pre-flight (see `keyless`).
      apiKey: request.apiKey || NO_KEY,
      maxRetries: request.maxRetries,
    });
    return {
      client,
      simulated: false,
      label: shown,
      identity: endpointIdentity(baseURL),
      ...(request.apiKey ? {} : { keyless: noKey }),
      close: async () => {},
    };
  }
  let simulator: Simulator;
  let identity: ProviderIdentity;
  try {
    const profiles = request.simulatorProfile ? await readProfileFile(request.simulatorProfile) : undefined;
    identity = simulatorIdentity(profiles ?? builtinProfiles(), request.simulatorTimeScale ?? 1);
    simulator = await startSimulator({
      ...(profiles ? { profiles } : {}),
      ...(request.simulatorTimeScale !== undefined ? { timeScale: request.simulatorTimeScale } : {}),
    });
  } catch (error) {
    if (error instanceof ProfileError) throw new UserError(error.message);
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UserError(`simulator profile ${request.simulatorProfile} does not exist`);
    }
    throw error;
  }
  const client = createOpenAIClient({
    baseURL: simulator.url,
    apiKey: "sk-simulated",
    maxRetries: request.maxRetries,
  });
  return {
    client,
    simulated: true,
    identity,
    label: `built-in simulator at ${simulator.url} (simulated numbers)`,
    close: () => simulator.close(),
  };
}
