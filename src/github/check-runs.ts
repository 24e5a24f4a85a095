import { fitCheckOutput, shortFailureSummary } from "./check-output.ts";
import { type GitHub, httpStatus, type RepoRef } from "./client.ts";
import { createIdempotently } from "./idempotent-create.ts";

/** GitHub rejects a check run's `output.summary` or `output.text` longer than this many UTF-8 bytes. */
export const CHECK_OUTPUT_LIMIT = 65_535;

export type CheckConclusion = "success" | "neutral" | "failure" | "action_required" | "cancelled" | "skipped";

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

export interface CheckRunSpec {
  name: string;
  head_sha: string;
  /** Ours to choose: the App stores which PR a run judged, to answer `check_run.rerequested`. */
  external_id: string;
  status: "in_progress" | "completed";
  conclusion?: CheckConclusion;
  output: CheckRunOutput;
  details_url?: string;
}

export interface ExistingCheckRun {
  id: number;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

export interface CheckRunIdentity {
  name: string;
  head_sha: string;
  external_id: string;
  /** Only runs created by this app (its slug) count; without it, any app's run of that name does. */
  app_slug?: string | undefined;
}

/**
 * The newest run with our name, external id (and app) on a commit. The App is stateless:
 * this lookup is what makes a redelivered webhook update its run instead of adding another.
 */
export async function findCheckRun(
  gh: GitHub,
  repo: RepoRef,
  id: CheckRunIdentity,
): Promise<ExistingCheckRun | undefined> {
  const found: ExistingCheckRun[] = [];
  for (let page = 1; page <= 10; page++) {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      ...repo,
      ref: id.head_sha,
      check_name: id.name,
      filter: "all",
      per_page: 100,
      page,
    });
    for (const run of data.check_runs) {
      if (run.name !== id.name || run.head_sha !== id.head_sha) continue;
      if (run.external_id !== id.external_id) continue;
      if (id.app_slug && run.app?.slug !== id.app_slug) continue;
      found.push({
        id: Number(run.id),
        status: run.status,
        conclusion: run.conclusion,
        external_id: run.external_id,
        output: { title: run.output.title, summary: run.output.summary, text: run.output.text },
      });
    }
    if (data.check_runs.length < 100) break;
  }
  return found.sort((a, b) => b.id - a.id)[0];
}

export type WriteAction = "created" | "updated" | "unchanged";

export interface UpsertOptions {
  app_slug?: string | undefined;
  force?: boolean;
}

/**
 * Creates the run, or updates the one `findCheckRun` finds. An identical completed run is left
 * alone unless `force` (a re-run someone asked for), so a redelivery writes nothing. A completed
 * run is never sent back to `in_progress` (GitHub's checks UI and required checks would show a
 * result that was already reported as pending again): a new run is created instead, and the
 * later completion finds and updates that newest run.
 * Output longer than GitHub's byte limit is cut at a line. When the write of a completed run
 * fails anyway (a 422 for whatever reason), the run is still completed, with a short summary
 * that names the error, and the error is rethrown: a run left `in_progress` would block a
 * required check forever.
 */
export async function upsertCheckRun(
  gh: GitHub,
  repo: RepoRef,
  spec: CheckRunSpec,
  options: UpsertOptions = {},
): Promise<{ id: number; action: WriteAction }> {
  const fitted: CheckRunSpec = { ...spec, output: fitCheckOutput(spec.output, CHECK_OUTPUT_LIMIT) };
  try {
    return await writeCheckRun(gh, repo, fitted, options);
  } catch (error) {
    const status = httpStatus(error);
    // Without write access (403/404) a second write fails the same way.
    if (spec.status !== "completed" || status === 403 || status === 404) throw error;
    const short = { ...fitted, output: { title: fitted.output.title, summary: shortFailureSummary(error) } };
    await writeCheckRun(gh, repo, short, { ...options, force: true }).catch(() => undefined);
    throw error;
  }
}

async function writeCheckRun(
  gh: GitHub,
  repo: RepoRef,
  spec: CheckRunSpec,
  options: UpsertOptions,
): Promise<{ id: number; action: WriteAction }> {
  const existing = await findCheckRun(gh, repo, { ...spec, app_slug: options.app_slug });
  const output = {
    title: spec.output.title,
    summary: spec.output.summary,
    ...(spec.output.text ? { text: spec.output.text } : {}),
  };
  if (existing && !options.force && sameRun(existing, spec)) return { id: existing.id, action: "unchanged" };
  const fields = {
    status: spec.status,
    ...(spec.status === "completed"
      ? { conclusion: spec.conclusion ?? "neutral", completed_at: new Date().toISOString() }
      : {}),
    ...(spec.details_url ? { details_url: spec.details_url } : {}),
    output,
  };
  const patch = async (id: number) => {
    await gh.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      ...repo,
      check_run_id: id,
      external_id: spec.external_id,
      ...fields,
    });
  };
  const reopens = existing?.status === "completed" && spec.status !== "completed";
  if (existing && !reopens) {
    await patch(existing.id);
    return { id: existing.id, action: "updated" };
  }
  // A lost answer to the POST may hide a run that was made: look for it (newer than any run
  // that was there before) before creating another, which would stay in progress forever.
  const { value, recovered } = await createIdempotently(
    async () => {
      const { data } = await gh.request("POST /repos/{owner}/{repo}/check-runs", {
        ...repo,
        name: spec.name,
        head_sha: spec.head_sha,
        external_id: spec.external_id,
        started_at: new Date().toISOString(),
        ...fields,
      });
      return Number(data.id);
    },
    async () => {
      const found = await findCheckRun(gh, repo, { ...spec, app_slug: options.app_slug });
      return found && (!existing || found.id > existing.id) ? found.id : undefined;
    },
  );
  // The run found after a lost answer is the one this call made, with these very fields; a
  // PATCH makes sure of it (a PATCH repeats safely).
  if (recovered) await patch(value);
  return { id: value, action: "created" };
}

function sameRun(existing: ExistingCheckRun, spec: CheckRunSpec): boolean {
  return (
    existing.status === spec.status &&
    (existing.conclusion ?? undefined) ===
      (spec.status === "completed" ? (spec.conclusion ?? "neutral") : undefined) &&
    existing.output.title === spec.output.title &&
    existing.output.summary === spec.output.summary &&
    (existing.output.text ?? "") === (spec.output.text ?? "")
  );
}
