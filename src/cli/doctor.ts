import { resolve } from "node:path";
import { DEFAULT_CONFIG_PATH } from "../core/config/load.ts";
import type { Config } from "../core/config/schema.ts";
import { runDoctor } from "../core/doctor/doctor.ts";
import { renderDoctorText } from "../core/doctor/render.ts";
import type { BaselineFacts, MetricsFacts, ProviderFacts } from "../core/doctor/types.ts";
import { parseLlmDocument, readLlmConfig } from "../core/llm-config.ts";
import { ownGet } from "../core/own.ts";
import { DEFAULT_PROVIDER } from "../core/providers.ts";
import { readShare } from "../core/rollout/llm-edit.ts";
import type { TreeSource } from "../core/source.ts";
import { countCachedBaseline } from "../eval/baseline.ts";
import { directoryCache } from "../eval/cache.ts";
import { loadSide, parseCases } from "../eval/load-side.ts";
import { listProviderModels, ProviderUnavailable } from "../eval/preflight.ts";
import { openProvider, type Provider } from "../eval/provider.ts";
import {
  closeAll,
  openProviderMap,
  parseProviderMapText,
  providerMapText,
  readProvidersFlag,
} from "../eval/providers.ts";
import { loadPolicyAt } from "../git/classify-refs.ts";
import { openLocalRepo } from "../git/local-repo.ts";
import { commitSource } from "../git/tree-source.ts";
import { readMetricsFile } from "../metrics/file.ts";
import { PrometheusError, prometheusClient, readPrometheusArms } from "../metrics/prometheus.ts";
import { oneOf, parseCommandArgs } from "./args.ts";
import { defaultCacheDir } from "./eval.ts";
import type { CommandIo } from "./io.ts";

export const DOCTOR_USAGE = `Usage: modelgate doctor --repo DIR [--ref REF] [--config PATH] [--format json|text]
                        [--base-url URL] [--api-key-env NAME] [--cache-dir DIR | --no-cache]
                        [--allow-alias MODEL]... [--simulator-profile FILE] [--providers FILE|JSON]

A readiness report before a model migration (docs/doctor.md): every route has eval cases and
enough of them, a cached baseline, a rollback model the provider offers, pinned model IDs,
explicit routes, budget caps, production metrics that answer, structured output under test.
Each line is pass, warn or fail, with the fix.
--ref REF: the revision to check (default: HEAD). The policy is read from it.
Provider (for GET /v1/models): as in 'modelgate eval' (OPENAI_BASE_URL / OPENAI_API_KEY, or
--base-url / --api-key-env; with neither, the built-in simulator), and the providers of
--providers FILE|JSON, else MODELGATE_PROVIDERS: a model is looked up in the list of the
provider evals.providers maps it to.
Attempt cache (read only, for the baseline): as in 'modelgate eval'.
Metrics: checked when PROMETHEUS_URL is set (rollout.metrics.source: prometheus) or the
metrics file exists at REF (source: file).
--allow-alias MODEL: a floating model name you keep on purpose (repeatable).
Exit: 0 ready (no failing check), 1 not ready, 2 usage or config error.`;

export async function doctorCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("doctor", argv, {
    repo: { type: "string", default: "." },
    ref: { type: "string", default: "HEAD" },
    config: { type: "string", default: DEFAULT_CONFIG_PATH },
    format: { type: "string" },
    "base-url": { type: "string" },
    "api-key-env": { type: "string" },
    "cache-dir": { type: "string" },
    "no-cache": { type: "boolean", default: false },
    "allow-alias": { type: "string", multiple: true, default: [] },
    "simulator-profile": { type: "string" },
    providers: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(`${DOCTOR_USAGE}\n`);
    return 0;
  }
  const format = oneOf("doctor", values.format, ["json", "text"] as const, "--format", "json");
  const repo = await openLocalRepo(values.repo);
  const commit = await repo.resolve(values.ref);
  const config = await loadPolicyAt(repo, commit, values.config);
  const source = commitSource(repo, commit, "base");
  const llmFile = config.llm.config;
  const llmText = (await source.readFiles([llmFile])).get(llmFile) ?? null;
  const llm = llmText === null ? null : readLlmConfig(llmText, llmFile, config, `${llmFile} (${values.ref})`);
  const cases = parseCases(await loadSide(source, config));

  const mapText = providerMapText(
    values.providers === undefined ? undefined : await readProvidersFlag(values.providers),
    io.env,
  );
  const providerMap = parseProviderMapText(mapText);
  const apiKeyEnv = values["api-key-env"] ?? "OPENAI_API_KEY";
  const provider = await openProvider({
    baseURL: values["base-url"] ?? io.env.OPENAI_BASE_URL,
    apiKey: ownGet(io.env, apiKeyEnv),
    simulatorProfile: values["simulator-profile"],
  });
  let named = new Map<string, Provider>();
  try {
    named = await openProviderMap(providerMap, io.env, mapText?.source ?? "MODELGATE_PROVIDERS");
    const { facts: providerFacts, endpointSimulated } = await listAllModels(
      provider,
      named,
      config.evals.providers,
    );
    let baseline: BaselineFacts;
    if (values["no-cache"]) baseline = { kind: "not_checked", reason: "--no-cache" };
    else if (llm === null) baseline = { kind: "not_checked", reason: `${llmFile} does not exist` };
    else if (endpointSimulated) {
      baseline = {
        kind: "not_checked",
        reason: `${provider.label} is a modelgate simulator, whose answers are never cached as a real provider's`,
      };
    } else {
      const cacheDir = resolve(values["cache-dir"] ?? defaultCacheDir(io.env));
      const cache = directoryCache(cacheDir, provider.identity, (message) =>
        io.stderr(`modelgate: ${message}\n`),
      );
      baseline = {
        kind: "counted",
        routes: await countCachedBaseline({ source, config, llm, cases, cache }),
      };
    }
    const metrics =
      llmText === null
        ? notChecked(`${llmFile} does not exist`, "commit the LLM config first")
        : await readMetrics(
            config,
            source,
            io.env,
            readShare(parseLlmDocument(llmText, llmFile), config.rollout.key),
          );
    const report = runDoctor(
      {
        config,
        policyFile: values.config,
        llm,
        cases,
        provider: providerFacts,
        baseline,
        rehearsal: { kind: "unknown" },
        metrics,
        explicitAliases: values["allow-alias"],
      },
      {
        llmFile,
        ref: values.ref,
        evalCommand: [
          `modelgate eval --repo ${values.repo} --base ${values.ref} --head ${values.ref} --all`,
          ...(values["cache-dir"] ? [`--cache-dir ${values["cache-dir"]}`] : []),
        ].join(" "),
      },
    );
    io.stdout(format === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderDoctorText(report));
    return report.ready ? 0 : 1;
  } finally {
    await Promise.all([provider.close(), closeAll(named.values())]);
  }
}

/**
 * Cross-provider: each provider's own list, and the policy's rules, so a model is looked up in
 * the list of the provider it maps to, as `modelgate eval` does. One unavailable provider makes
 * the facts unavailable, naming it.
 */
async function listAllModels(
  provider: Provider,
  named: ReadonlyMap<string, Provider>,
  rules: Config["evals"]["providers"],
): Promise<{ facts: ProviderFacts; endpointSimulated: boolean }> {
  const main = await listModels(provider);
  if (named.size === 0 || main.facts.kind !== "listed") return main;
  const lists = new Map<string, ReadonlySet<string>>([[DEFAULT_PROVIDER, main.facts.ids]]);
  for (const [name, other] of named) {
    const listed = await listModels(other);
    if (listed.facts.kind !== "listed") {
      return {
        facts: { kind: "unavailable", reason: `provider ${name}: ${listed.facts.reason}` },
        endpointSimulated: false,
      };
    }
    lists.set(name, listed.facts.ids);
  }
  return {
    facts: { kind: "listed", ids: main.facts.ids, byProvider: { lists, rules } },
    endpointSimulated: main.endpointSimulated,
  };
}

async function listModels(provider: Provider): Promise<{ facts: ProviderFacts; endpointSimulated: boolean }> {
  try {
    const listed = await listProviderModels(provider.client);
    // Without a key only a modelgate simulator may answer (as in eval).
    if (provider.keyless && !listed.simulated) {
      return { facts: { kind: "unavailable", reason: provider.keyless }, endpointSimulated: false };
    }
    return {
      facts: { kind: "listed", ids: listed.ids },
      endpointSimulated: listed.simulated && !provider.simulated,
    };
  } catch (error) {
    if (!(error instanceof ProviderUnavailable)) throw error;
    const reason = provider.keyless ?? `${provider.label}: ${error.message}`;
    return { facts: { kind: "unavailable", reason }, endpointSimulated: false };
  }
}

function notChecked(reason: string, fix: string): MetricsFacts {
  return { kind: "not_checked", reason, fix };
}

/** Each rollout query once, as the App's production gate would ask it at the current share. */
async function readMetrics(
  config: Config,
  source: TreeSource,
  env: NodeJS.ProcessEnv,
  phase: number,
): Promise<MetricsFacts> {
  const metrics = config.rollout.metrics;
  if (metrics.source === "file") {
    const text = (await source.readFiles([metrics.file])).get(metrics.file) ?? null;
    if (text === null) {
      return notChecked(
        `rollout.metrics.source is file and ${metrics.file} does not exist at this revision`,
        `commit ${metrics.file} from the job that exports your production counts (docs/rollout.md)`,
      );
    }
    return { kind: "read", reading: readMetricsFile(text, metrics.file, phase), phase };
  }
  const url = env.PROMETHEUS_URL;
  if (!url) {
    return notChecked(
      "PROMETHEUS_URL is not set, so the rollout queries were not asked",
      "set PROMETHEUS_URL (and PROMETHEUS_BEARER_TOKEN if it needs one) to the Prometheus the App reads and run doctor again, or use rollout.metrics.source: file",
    );
  }
  try {
    const client = prometheusClient({ url, bearerToken: env.PROMETHEUS_BEARER_TOKEN });
    // Doctor checks the wiring, not a phase's evidence: `{{phase_window}}` asks for the last hour.
    const reading = await readPrometheusArms(client, metrics, phase, { phase_window: "1h" });
    return { kind: "read", reading, phase };
  } catch (error) {
    if (!(error instanceof PrometheusError)) throw error;
    return {
      kind: "read",
      reading: { kind: "missing", source: "Prometheus (PROMETHEUS_URL)", reason: error.message },
      phase,
    };
  }
}
