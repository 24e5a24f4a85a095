/** The emulator's in-memory model: repositories, issues/PRs, comments, check runs, identities. */
import { ObjectStore } from "./git.ts";

export type Permission = "admin" | "write" | "read" | "none";
export type UserType = "User" | "Bot" | "Organization";

/** Who a token acts as. */
export interface Identity {
  login: string;
  type: "User" | "Bot";
}

export interface UserRecord {
  login: string;
  id: number;
  type: UserType;
}

export interface AppRecord {
  id: number;
  slug: string;
  name: string;
  owner: string;
}

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface IssueEventRecord {
  id: number;
  event: "labeled" | "unlabeled";
  actor: string;
  label: { name: string; color: string };
  createdAt: string;
}

export interface PullFields {
  id: number;
  baseRef: string;
  headRef: string;
  /** Lower-cased full name of the head repository (differs from the base repo for forks). */
  headRepo: string;
  /** Last known shas; refreshed from the branches whenever the PR is read. */
  headSha: string;
  baseSha: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
}

/** An issue; a pull request is an issue with `pull` set (as on GitHub). */
export interface IssueRecord {
  number: number;
  id: number;
  title: string;
  body: string | null;
  user: string;
  state: "open" | "closed";
  /** Lower-cased label names, in the order they were added. */
  labels: string[];
  events: IssueEventRecord[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  pull?: PullFields;
}

export interface RepoRecord {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  private: boolean;
  createdAt: string;
  updatedAt: string;
  pushedAt: string;
  /** Full ref name ("refs/heads/main") → commit sha. */
  refs: Map<string, string>;
  issues: Map<number, IssueRecord>;
  /** Lower-cased name → label. */
  labels: Map<string, LabelRecord>;
  /** Lower-cased login → explicit permission. */
  permissions: Map<string, Permission>;
  nextNumber: number;
}

export interface CommentRecord {
  id: number;
  repo: string;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface CheckRunRecord {
  id: number;
  repo: string;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  detailsUrl: string | null;
  externalId: string;
  output: { title: string | null; summary: string | null; text: string | null; annotationsCount: number };
  /** Slug of the app that created the run. */
  app: string;
  checkSuiteId: number;
}

export interface EmulatorState {
  store: ObjectStore;
  /** Lower-cased "owner/name" → repository. */
  repos: Map<string, RepoRecord>;
  /** Lower-cased login → user (created on first mention, ids stay stable). */
  users: Map<string, UserRecord>;
  comments: Map<number, CommentRecord>;
  checkRuns: Map<number, CheckRunRecord>;
  /**
   * Extra token → identity mappings. Unlisted: `ghs_…` act as the app's bot,
   * `test-workflow-token` as github-actions[bot], anything else gets 401.
   */
  tokens: Record<string, Identity>;
  /** Slug → app. `appSlug` is the app that JWTs and `ghs_` tokens belong to. */
  apps: Map<string, AppRecord>;
  appSlug: string;
  installationId: number;
  /** Tokens issued by `POST /app/installations/{id}/access_tokens`. */
  issuedTokens: string[];
  clock: () => Date;
  nextId: number;
  /** Requests served, for the `x-ratelimit-*` headers (the limit is 5,000 an hour, never hit). */
  requestCount: number;
  /**
   * As GitHub does: a PR's `base.sha` moves only when its head moves, not when the base branch
   * does. Off by default (older tests expect `base.sha` to follow the branch).
   */
  staleBaseSha?: boolean;
  /**
   * A recursive tree listing with more entries than this is cut there and says
   * `truncated: true`, as GitHub does past 100,000 entries or 7 MB.
   */
  treeEntryLimit?: number;
}

export const WORKFLOW_TOKEN = "test-workflow-token";

export function createState(): EmulatorState {
  const state: EmulatorState = {
    store: new ObjectStore(),
    repos: new Map(),
    users: new Map(),
    comments: new Map(),
    checkRuns: new Map(),
    tokens: {},
    apps: new Map([
      ["modelgate", { id: 1, slug: "modelgate", name: "modelgate", owner: "modelgate" }],
      ["github-actions", { id: 15368, slug: "github-actions", name: "GitHub Actions", owner: "github" }],
    ]),
    appSlug: "modelgate",
    installationId: 1,
    issuedTokens: [],
    clock: () => new Date(),
    nextId: 1000,
    requestCount: 0,
  };
  state.users.set("github-actions[bot]", { login: "github-actions[bot]", id: 41898282, type: "Bot" });
  return state;
}

export function nextId(state: EmulatorState): number {
  state.nextId += 1;
  return state.nextId;
}

/** GitHub's timestamp format: ISO 8601 without milliseconds. */
export function now(state: EmulatorState): string {
  return state
    .clock()
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
}

export function repoKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

export function findRepo(state: EmulatorState, owner: string, name: string): RepoRecord | undefined {
  return state.repos.get(repoKey(owner, name));
}

export function userRecord(state: EmulatorState, login: string, type?: UserType): UserRecord {
  const key = login.toLowerCase();
  let user = state.users.get(key);
  if (!user) {
    user = { login, id: nextId(state), type: type ?? (login.endsWith("[bot]") ? "Bot" : "User") };
    state.users.set(key, user);
  }
  return user;
}

export function appIdentity(state: EmulatorState): Identity {
  return { login: `${state.appSlug}[bot]`, type: "Bot" };
}

/** The app a bot login acts for (`name[bot]` → app `name`), registering unknown apps on the fly. */
export function appForBot(state: EmulatorState, login: string): AppRecord | undefined {
  if (!login.endsWith("[bot]")) return undefined;
  const slug = login.slice(0, -"[bot]".length);
  let app = state.apps.get(slug);
  if (!app) {
    app = { id: nextId(state), slug, name: slug, owner: slug };
    state.apps.set(slug, app);
  }
  return app;
}

const RANK: Record<Permission, number> = { none: 0, read: 1, write: 2, admin: 3 };

export function permissionOf(repo: RepoRecord, login: string): Permission {
  const explicit = repo.permissions.get(login.toLowerCase());
  if (explicit) return explicit;
  if (login.toLowerCase() === repo.owner.toLowerCase()) return "admin";
  return repo.private ? "none" : "read";
}

export function hasPermission(repo: RepoRecord, login: string, needed: Permission): boolean {
  return RANK[permissionOf(repo, login)] >= RANK[needed];
}

export function branchRef(branch: string): string {
  return branch.startsWith("refs/") ? branch : `refs/heads/${branch}`;
}

/**
 * A commit sha for a ref-ish: branch or tag name, "heads/x", "refs/heads/x", or a (possibly
 * abbreviated) commit sha.
 */
export function resolveCommit(state: EmulatorState, repo: RepoRecord, refish: string): string | undefined {
  const candidates = [`refs/heads/${refish}`, `refs/tags/${refish}`, `refs/${refish}`, refish];
  for (const name of candidates) {
    const sha = repo.refs.get(name);
    if (sha) return sha;
  }
  const sha = state.store.expand(refish);
  return sha && state.store.commit(sha) ? sha : undefined;
}

export function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`).toString("base64");
}

export const RATE_LIMIT = 5000;

export function rateLimit(state: EmulatorState) {
  const used = state.requestCount % RATE_LIMIT;
  const reset = Math.floor(state.clock().getTime() / 1000) + 3600;
  return { limit: RATE_LIMIT, used, remaining: RATE_LIMIT - used, reset };
}
