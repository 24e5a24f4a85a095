import type OpenAI from "openai";
import { judgeAssertions } from "../core/cases/assertions.ts";
import type { EvalCase } from "../core/cases/schema.ts";
import { UserError } from "../core/errors.ts";
import { DEFAULT_PROVIDER, type ProviderRule, providerFor } from "../core/providers.ts";
import type { AttemptCache } from "./cache.ts";
import {
  isOffered,
  listProviderModels,
  PreflightInterrupted,
  type ProviderModels,
  ProviderUnavailable,
} from "./preflight.ts";

/** One provider as a run sees it: where its requests go, and what keeps its answers. */
export interface RouteTarget {
  client: OpenAI;
  /** The door knows it is the built-in simulator. */
  simulated: boolean;
  /** Set when it has no key: only a modelgate simulator may then answer (this is the error). */
  keyless?: string | undefined;
  /** For people (never the key). */
  label: string;
  /** Its own attempt cache: an answer from one provider never answers for another. */
  cache?: AttemptCache | undefined;
  /** Its cache identity text, for attempt keys that involve it (the judge). */
  identity?: string | undefined;
}

/**
 * Which provider serves which model (the policy's `evals.providers`, first match wins, else
 * `default`), each provider's pre-flight model list, and the client and cache a task uses.
 */
export class ProviderRouting {
  private readonly listings = new Map<string, ProviderModels>();
  private readonly rules: readonly ProviderRule[];
  private readonly targets: ReadonlyMap<string, RouteTarget>;

  constructor(rules: readonly ProviderRule[], targets: ReadonlyMap<string, RouteTarget>) {
    this.rules = rules;
    this.targets = targets;
  }

  /** True when the policy maps some model to a provider: results then name providers. */
  get active(): boolean {
    return this.rules.length > 0;
  }

  nameOf(model: string): string {
    return providerFor(model, this.rules);
  }

  targetOf(model: string): RouteTarget {
    const name = this.nameOf(model);
    const target = this.targets.get(name);
    // `checkPolicyProviders` ran first: every name a rule gives is defined.
    if (!target) throw new Error(`internal error: provider ${name} is not open`);
    return target;
  }

  clientFor = (model: string): OpenAI => this.targetOf(model).client;

  /**
   * Lists every provider some model of the run needs, in parallel, each with its own deadline.
   * A provider without a key passes only when its listing shows a modelgate simulator.
   */
  async preflight(
    models: Iterable<string>,
    options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  ): Promise<void> {
    const names = new Set([...models].map((model) => this.nameOf(model)));
    if (names.size === 0) names.add(DEFAULT_PROVIDER);
    await Promise.all(
      [...names].map(async (name) => {
        const target = this.targets.get(name);
        if (!target) throw new Error(`internal error: provider ${name} is not open`);
        let listed: ProviderModels;
        try {
          listed = await listProviderModels(target.client, {
            signal: options.signal,
            ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          });
        } catch (error) {
          if (error instanceof PreflightInterrupted) throw error;
          // Without a key, a refused or failed listing is first of all the missing key.
          if (target.keyless) throw new UserError(target.keyless);
          if (error instanceof ProviderUnavailable && name !== DEFAULT_PROVIDER) {
            const named = new ProviderUnavailable(`provider ${target.label}: ${error.message}`);
            named.provider = name;
            throw named;
          }
          throw error;
        }
        if (target.keyless && !listed.simulated) throw new UserError(target.keyless);
        this.listings.set(name, listed);
      }),
    );
  }

  /** Every listing together (the Action's readiness section reads one list). */
  listed(): ProviderModels {
    const ids = new Set<string>();
    let simulated = false;
    for (const listing of this.listings.values()) {
      for (const id of listing.ids) ids.add(id);
      simulated ||= listing.simulated;
    }
    return { ids, simulated };
  }

  /** Some provider of the run announced itself as a modelgate simulator. */
  get endpointSimulated(): boolean {
    return [...this.listings.values()].some((listing) => listing.simulated);
  }

  offers(model: string): boolean {
    const listing = this.listings.get(this.nameOf(model));
    return listing !== undefined && isOffered(model, listing.ids);
  }

  /**
   * The cache of the provider that answers `model`. A provider keyed as a real endpoint that
   * turned out to be a simulator gets none: its simulated answers are never stored where a real
   * provider at the same address could later read them as its own.
   */
  cacheOf(model: string): AttemptCache | undefined {
    const name = this.nameOf(model);
    const target = this.targetOf(model);
    if (this.listings.get(name)?.simulated && !target.simulated) return undefined;
    return target.cache;
  }

  /** Every cache of the run, once each (for their warnings). */
  caches(): AttemptCache[] {
    return [...new Set([...this.targets.values()].flatMap((t) => (t.cache ? [t.cache] : [])))];
  }

  /** The judge models a case may call: its own per-assert models, else the policy's. */
  judgeModels(testCase: EvalCase, judgeModel: string | undefined): string[] {
    const models = new Set<string>();
    for (const item of judgeAssertions(testCase)) {
      const model = item.model ?? judgeModel;
      if (model) models.add(model);
    }
    return [...models];
  }

  /** Identities of the non-default providers serving these judge models, for the attempt key. */
  judgeIdentities(judgeModels: readonly string[]): string[] | undefined {
    const identities = judgeModels
      .filter((model) => this.nameOf(model) !== DEFAULT_PROVIDER)
      .map((model) => `${model}@${this.nameOf(model)}:${this.targetOf(model).identity ?? ""}`)
      .sort();
    return identities.length > 0 ? identities : undefined;
  }
}
