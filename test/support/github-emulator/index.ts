/**
 * An in-memory GitHub REST API on 127.0.0.1 (random port) for tests.
 *
 * Serves both URL forms: `GITHUB_API_URL=emu.url` (@actions/github, no prefix) and
 * `GHE_HOST=emu.host` + `GHE_PROTOCOL=http` (Probot, under `/api/v3`).
 *
 * Identities: `Authorization` tokens map to users through `state.tokens`; `ghs_…` tokens (and
 * those issued by `POST /app/installations/1/access_tokens`) act as `modelgate[bot]`,
 * `test-workflow-token` as `github-actions[bot]`; other unknown tokens get 401. Any JWT is
 * accepted (unverified) on the app endpoints.
 */
import type { AddressInfo } from "node:net";
import { compileRoutes, HttpError, type Route } from "./http.ts";
import { addRepo, commitFiles, createPull, requirePull, signature } from "./ops.ts";
import { appRoutes } from "./routes/app.ts";
import { checkRoutes } from "./routes/checks.ts";
import { contentRoutes } from "./routes/contents.ts";
import { gitRoutes } from "./routes/git.ts";
import { issueRoutes } from "./routes/issues.ts";
import { pullRoutes } from "./routes/pulls.ts";
import { repoRoutes } from "./routes/repos.ts";
import { userRoutes } from "./routes/users.ts";
import { type Concurrency, createEmulatorServer, type FaultRule, type RequestLogEntry } from "./server.ts";
import { type PullRequest, pullJson, repoJson, type View } from "./shapes.ts";
import {
  createState,
  type EmulatorState,
  findRepo,
  type Permission,
  type RepoRecord,
  userRecord,
} from "./state.ts";

export type { FileChange } from "./diff.ts";
export type { Concurrency, RequestLogEntry } from "./server.ts";
export type { PullRequest } from "./shapes.ts";
export type {
  CheckRunRecord,
  CommentRecord,
  EmulatorState,
  Identity,
  IssueRecord,
  Permission,
  RepoRecord,
} from "./state.ts";
export { WORKFLOW_TOKEN } from "./state.ts";

/** More specific patterns first: `commits/{ref}/check-runs` before `commits/{ref}`. */
const ROUTES: Route[] = [
  ...appRoutes,
  ...checkRoutes,
  ...repoRoutes,
  ...contentRoutes,
  ...pullRoutes,
  ...issueRoutes,
  ...gitRoutes,
  ...userRoutes,
];

export interface OpenPullRequestOptions {
  number?: number;
  base: string;
  head: string;
  title?: string;
  body?: string;
  /** Author login; defaults to the owner of the head repository. */
  user?: string;
  draft?: boolean;
  /** "owner/name" of a fork holding `head` (add it with `addRepo` first). */
  headRepoFullName?: string;
}

export interface FailMatch {
  method?: string;
  /** Substring of the request path (without `/api/v3`, query string included). */
  pathIncludes: string;
}

export interface FailOptions {
  /** Apply the request, then answer with the failure (a write that happened, a reply that was lost). */
  after?: boolean;
  /** No `x-ratelimit-*` headers on the failure (a secondary rate limit as GitHub may send it). */
  bare?: boolean;
}

export interface GitHubEmulator {
  /** `http://127.0.0.1:PORT`, for `GITHUB_API_URL` / `getOctokit(token, { baseUrl })`. */
  url: string;
  /** `127.0.0.1:PORT`, for `GHE_HOST` (with `GHE_PROTOCOL=http`; requests go to `/api/v3`). */
  host: string;
  state: EmulatorState;
  requests: RequestLogEntry[];
  addRepo(opts: { owner: string; repo: string; defaultBranch?: string; private?: boolean }): void;
  /** Commits `files` (`null` deletes) on `branch`, creating it from the default branch; returns the sha. */
  commit(
    owner: string,
    repo: string,
    branch: string,
    files: Record<string, string | null>,
    message?: string,
  ): string;
  openPullRequest(owner: string, repo: string, opts: OpenPullRequestOptions): PullRequest;
  setPermission(owner: string, repo: string, user: string, permission: Permission): void;
  /** Deletes a repository (e.g. a fork): PRs from it then report `head.repo: null`, as GitHub's do. */
  deleteRepo(owner: string, repo: string): void;
  /** The next `times` requests matching `match` get `status` (with `headers`) instead of an answer. */
  failNext(
    match: FailMatch,
    status: number,
    times?: number,
    headers?: Record<string, string>,
    options?: FailOptions,
  ): void;
  /** The next `times` requests matching `match` are never answered (a hung GitHub call). */
  hangNext(match: FailMatch, times?: number): void;
  /** Requests in flight now and at most; set `delayMs` to hold each request (makes overlap visible). */
  concurrency: Concurrency;
  /** The current `pulls.get` body of a PR (e.g. for a webhook payload). */
  getPullRequest(owner: string, repo: string, number: number): PullRequest;
  /** The current repository object (as embedded in webhook payloads). */
  getRepository(owner: string, repo: string): ReturnType<typeof repoJson>;
  close(): Promise<void>;
}

const SEED_AUTHOR = { name: "Emulator Seed", email: "seed@users.noreply.github.com" };

function listen(server: ReturnType<typeof createEmulatorServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

/** Runs `fn`, turning the HTTP-shaped validation errors of seeding into plain, readable errors. */
function seeding<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof HttpError)
      throw new Error(`github-emulator: ${what}: ${JSON.stringify(error.body)}`);
    throw error;
  }
}

export async function startGitHubEmulator(): Promise<GitHubEmulator> {
  const state = createState();
  const requests: RequestLogEntry[] = [];
  const faults: FaultRule[] = [];
  const concurrency: Concurrency = { inFlight: 0, max: 0, delayMs: 0 };
  const server = createEmulatorServer({
    state,
    routes: compileRoutes(ROUTES),
    requests,
    faults,
    concurrency,
  });
  const port = await listen(server);
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const view: View = { state, urls: { api: url, web: url } };

  const mustRepo = (owner: string, repo: string): RepoRecord => {
    const found = findRepo(state, owner, repo);
    if (!found) throw new Error(`github-emulator: no repository ${owner}/${repo} (call addRepo first)`);
    return found;
  };
  const mustRepoByName = (fullName: string): RepoRecord => {
    const [owner = "", repo = ""] = fullName.split("/");
    return mustRepo(owner, repo);
  };

  return {
    url,
    host,
    state,
    requests,
    addRepo(opts) {
      addRepo(state, opts);
    },
    commit(owner, repo, branch, files, message = "Update files") {
      const changes = new Map(
        Object.entries(files).map(([path, content]) => [
          path,
          content === null ? null : Buffer.from(content, "utf8"),
        ]),
      );
      return commitFiles(
        state,
        mustRepo(owner, repo),
        branch,
        changes,
        message,
        signature(state, SEED_AUTHOR.name, SEED_AUTHOR.email),
      );
    },
    openPullRequest(owner, repo, opts) {
      const base = mustRepo(owner, repo);
      const headRepo = opts.headRepoFullName ? mustRepoByName(opts.headRepoFullName) : base;
      const issue = seeding("openPullRequest", () =>
        createPull(state, base, {
          number: opts.number,
          base: opts.base,
          head: opts.head,
          headRepo,
          title: opts.title ?? `Update ${opts.head}`,
          body: opts.body ?? null,
          user: opts.user ?? headRepo.owner,
          draft: opts.draft ?? false,
        }),
      );
      return pullJson(view, base, issue, requirePull(issue));
    },
    setPermission(owner, repo, user, permission) {
      userRecord(state, user);
      mustRepo(owner, repo).permissions.set(user.toLowerCase(), permission);
    },
    deleteRepo(owner, repo) {
      state.repos.delete(`${owner}/${repo}`.toLowerCase());
    },
    failNext(match, status, times = 1, headers = {}, options = {}) {
      faults.push({
        method: match.method,
        pathIncludes: match.pathIncludes,
        status,
        remaining: times,
        headers,
        ...options,
      });
    },
    concurrency,
    hangNext(match, times = 1) {
      faults.push({ ...match, status: 0, remaining: times, headers: {}, hang: true });
    },
    getPullRequest(owner, repo, number) {
      const base = mustRepo(owner, repo);
      const issue = base.issues.get(number);
      if (!issue?.pull) throw new Error(`github-emulator: no pull request #${number} in ${owner}/${repo}`);
      return pullJson(view, base, issue, issue.pull);
    },
    getRepository(owner, repo) {
      return repoJson(view, mustRepo(owner, repo));
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
