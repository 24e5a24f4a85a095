/** Check runs: create, update, get, list for a ref. Only apps (bot identities) may write them. */
import { actor, repoFor } from "../access.ts";
import {
  type Ctx,
  HttpError,
  invalid,
  paginate,
  parseBody,
  parseFields,
  pathNumber,
  type Reply,
  type Route,
  validationFailed,
} from "../http.ts";
import { checkRunJson } from "../shapes.ts";
import {
  appForBot,
  type CheckRunRecord,
  type EmulatorState,
  nextId,
  now,
  type RepoRecord,
  resolveCommit,
} from "../state.ts";

const STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"] as const;
const CONCLUSIONS = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "stale",
  "timed_out",
];
/** GitHub's limit on `output.summary` and `output.text`, in UTF-8 bytes (not characters). */
export const CHECK_OUTPUT_MAX_BYTES = 65535;
const MAX_ANNOTATIONS_PER_REQUEST = 50;

type Status = CheckRunRecord["status"];

function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

const FIELDS = {
  name: "string?",
  head_sha: "string?",
  details_url: "string|null?",
  external_id: "string|null?",
  status: "string?",
  conclusion: "string|null?",
  started_at: "string?",
  completed_at: "string|null?",
  output: "object?",
  actions: "array?",
} as const;

/** The app slug of the caller; check runs can only be written by GitHub Apps. */
function callerApp(ctx: Ctx): string {
  const app = appForBot(ctx.state, actor(ctx).login);
  if (!app) throw new HttpError(403, "You must authenticate via a GitHub App.");
  return app.slug;
}

function checkLength(field: string, value: string | undefined): void {
  const length = value === undefined ? 0 : Buffer.byteLength(value, "utf8");
  if (length > CHECK_OUTPUT_MAX_BYTES) {
    throw new HttpError(
      422,
      `Invalid request.\n\nOnly ${CHECK_OUTPUT_MAX_BYTES} characters are allowed; ${length} were supplied.`,
      { errors: [{ resource: "CheckRun", field: `output.${field}`, code: "custom" }] },
    );
  }
}

function applyOutput(run: CheckRunRecord, value: Record<string, unknown>): void {
  const output = parseFields(value, "CheckRun", {
    title: "string",
    summary: "string",
    text: "string?",
    annotations: "array?",
    images: "array?",
  });
  checkLength("summary", output.summary);
  checkLength("text", output.text);
  const annotations = output.annotations ?? [];
  if (annotations.length > MAX_ANNOTATIONS_PER_REQUEST) {
    throw invalid("CheckRun", "output.annotations", "at most 50 annotations can be sent per request");
  }
  run.output = {
    title: output.title,
    summary: output.summary,
    text: output.text ?? run.output.text,
    annotationsCount: run.output.annotationsCount + annotations.length,
  };
}

/** Applies status/conclusion rules: a conclusion completes the run; "completed" needs one. */
function applyState(
  state: EmulatorState,
  run: CheckRunRecord,
  status?: string,
  conclusion?: string | null,
): void {
  if (status !== undefined && !isStatus(status))
    throw invalid("CheckRun", "status", `${status} is not a valid status`);
  if (conclusion !== undefined && conclusion !== null && !CONCLUSIONS.includes(conclusion)) {
    throw invalid("CheckRun", "conclusion", `${conclusion} is not a valid conclusion`);
  }
  if (status !== undefined) run.status = status as Status;
  if (conclusion !== undefined) run.conclusion = conclusion;
  if (run.conclusion) run.status = "completed";
  if (run.status === "completed" && !run.conclusion) {
    throw invalid("CheckRun", "conclusion", "conclusion is required when status is completed");
  }
  if (run.status === "completed" && !run.completedAt) run.completedAt = now(state);
}

type CheckFields = ReturnType<typeof parseCheckBody>;

function parseCheckBody(ctx: Ctx) {
  return parseBody(ctx, "CheckRun", FIELDS);
}

function applyFields(ctx: Ctx, run: CheckRunRecord, body: CheckFields): void {
  if (body.name !== undefined) run.name = body.name;
  if (body.details_url !== undefined) run.detailsUrl = body.details_url;
  if (body.external_id !== undefined) run.externalId = body.external_id ?? "";
  if (body.started_at !== undefined) run.startedAt = body.started_at;
  if (body.completed_at !== undefined) run.completedAt = body.completed_at;
  if (body.output !== undefined) applyOutput(run, body.output);
  applyState(ctx.state, run, body.status, body.conclusion);
}

function createCheckRun(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const app = callerApp(ctx);
  const body = parseCheckBody(ctx);
  if (body.name === undefined || body.head_sha === undefined) {
    const missing = body.name === undefined ? "name" : "head_sha";
    throw validationFailed([{ resource: "CheckRun", field: missing, code: "missing_field" }]);
  }
  const headSha = ctx.state.store.expand(body.head_sha);
  if (!headSha || !ctx.state.store.commit(headSha)) {
    throw new HttpError(422, `No commit found for SHA: ${body.head_sha}`);
  }
  const run: CheckRunRecord = {
    id: nextId(ctx.state),
    repo: repo.fullName,
    name: body.name,
    headSha,
    status: "queued",
    conclusion: null,
    startedAt: now(ctx.state),
    completedAt: null,
    detailsUrl: null,
    externalId: "",
    output: { title: null, summary: null, text: null, annotationsCount: 0 },
    app,
    checkSuiteId: nextId(ctx.state),
  };
  applyFields(ctx, run, body);
  ctx.state.checkRuns.set(run.id, run);
  return { status: 201, body: checkRunJson(ctx, repo, run) };
}

function runFor(ctx: Ctx, repo: RepoRecord): CheckRunRecord {
  const run = ctx.state.checkRuns.get(pathNumber(ctx, "id"));
  if (!run || run.repo !== repo.fullName) throw new HttpError(404, "Not Found");
  return run;
}

function getCheckRun(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  return { body: checkRunJson(ctx, repo, runFor(ctx, repo)) };
}

function updateCheckRun(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const app = callerApp(ctx);
  const run = runFor(ctx, repo);
  if (run.app !== app) throw new HttpError(403, "Resource not accessible by integration");
  const body = parseCheckBody(ctx);
  const draft: CheckRunRecord = { ...run, output: { ...run.output } };
  applyFields(ctx, draft, body);
  Object.assign(run, draft);
  return { body: checkRunJson(ctx, repo, run) };
}

/** `filter=latest` (the default) keeps the most recent run per app and name. */
function latestOnly(runs: CheckRunRecord[]): CheckRunRecord[] {
  const latest = new Map<string, CheckRunRecord>();
  for (const run of runs) {
    const key = `${run.app}\0${run.name}`;
    const seen = latest.get(key);
    if (!seen || seen.id < run.id) latest.set(key, run);
  }
  return [...latest.values()];
}

function listForRef(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const ref = ctx.params.ref ?? "";
  const sha = resolveCommit(ctx.state, repo, ref);
  if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
  const name = ctx.query.get("check_name");
  const status = ctx.query.get("status");
  const appId = ctx.query.get("app_id");
  let runs = [...ctx.state.checkRuns.values()].filter(
    (run) =>
      run.repo === repo.fullName &&
      run.headSha === sha &&
      (name === null || run.name === name) &&
      (status === null || run.status === status) &&
      (appId === null || String(ctx.state.apps.get(run.app)?.id) === appId),
  );
  if (ctx.query.get("filter") !== "all") runs = latestOnly(runs);
  runs.sort((a, b) => b.id - a.id);
  const page = paginate(ctx, runs);
  return {
    body: { total_count: runs.length, check_runs: page.items.map((run) => checkRunJson(ctx, repo, run)) },
    headers: page.headers,
  };
}

export const checkRoutes: Route[] = [
  { method: "POST", pattern: "/repos/:owner/:repo/check-runs", handler: createCheckRun },
  { method: "GET", pattern: "/repos/:owner/:repo/check-runs/:id", handler: getCheckRun },
  { method: "PATCH", pattern: "/repos/:owner/:repo/check-runs/:id", handler: updateCheckRun },
  { method: "GET", pattern: "/repos/:owner/:repo/commits/*ref/check-runs", handler: listForRef },
];
