/** Domain operations shared by the HTTP routes and the seeding helpers. */
import { diffTrees, type FileChange } from "./diff.ts";
import { FILE_MODE, type FlatTree, type Signature } from "./git.ts";
import { HttpError, invalid, validationFailed } from "./http.ts";
import {
  branchRef,
  type EmulatorState,
  type Identity,
  type IssueRecord,
  type LabelRecord,
  nextId,
  now,
  type PullFields,
  type RepoRecord,
  repoKey,
  userRecord,
} from "./state.ts";

export interface AddRepoOptions {
  owner: string;
  repo: string;
  defaultBranch?: string;
  private?: boolean;
}

export function addRepo(state: EmulatorState, opts: AddRepoOptions): RepoRecord {
  const key = repoKey(opts.owner, opts.repo);
  if (state.repos.has(key))
    throw new Error(`github-emulator: repository ${opts.owner}/${opts.repo} already exists`);
  userRecord(state, opts.owner);
  const time = now(state);
  const repo: RepoRecord = {
    id: nextId(state),
    owner: opts.owner,
    name: opts.repo,
    fullName: `${opts.owner}/${opts.repo}`,
    defaultBranch: opts.defaultBranch ?? "main",
    private: opts.private ?? false,
    createdAt: time,
    updatedAt: time,
    pushedAt: time,
    refs: new Map(),
    issues: new Map(),
    labels: new Map(),
    permissions: new Map(),
    nextNumber: 1,
  };
  state.repos.set(key, repo);
  return repo;
}

export function signature(state: EmulatorState, name: string, email: string): Signature {
  return { name, email, date: now(state) };
}

export function identitySignature(state: EmulatorState, identity: Identity): Signature {
  const user = userRecord(state, identity.login);
  return signature(state, identity.login, `${user.id}+${identity.login}@users.noreply.github.com`);
}

export function treeOf(state: EmulatorState, commitSha: string): string {
  const commit = state.store.commit(commitSha);
  if (!commit) throw new Error(`github-emulator: ${commitSha} is not a commit`);
  return commit.tree;
}

export function flatTreeAt(state: EmulatorState, commitSha: string | undefined): FlatTree {
  return commitSha ? new Map(state.store.flatten(treeOf(state, commitSha))) : new Map();
}

/** Head commit of `branch`, or undefined when the branch does not exist. */
export function branchHead(repo: RepoRecord, branch: string): string | undefined {
  return repo.refs.get(branchRef(branch));
}

/**
 * Commits `files` (path → content; `null` deletes the file or directory) on top of `branch`,
 * creating the branch from the default branch's head when it does not exist yet.
 */
export function commitFiles(
  state: EmulatorState,
  repo: RepoRecord,
  branch: string,
  files: Map<string, Buffer | null>,
  message: string,
  author: Signature,
): string {
  const parent = branchHead(repo, branch) ?? branchHead(repo, repo.defaultBranch);
  const flat = flatTreeAt(state, parent);
  for (const [path, content] of files) {
    const clean = path.replace(/^\/+|\/+$/g, "");
    if (content === null) {
      flat.delete(clean);
      for (const p of [...flat.keys()]) if (p.startsWith(`${clean}/`)) flat.delete(p);
    } else {
      flat.set(clean, { mode: FILE_MODE, type: "blob", sha: state.store.writeBlob(content) });
    }
  }
  const tree = state.store.writeTree(flat);
  const sha = state.store.writeCommit({
    tree,
    parents: parent ? [parent] : [],
    message,
    author,
    committer: author,
  });
  repo.refs.set(branchRef(branch), sha);
  repo.pushedAt = now(state);
  return sha;
}

// ---------------------------------------------------------------------------------------------
// Diffs

const diffCache = new WeakMap<EmulatorState, Map<string, FileChange[]>>();

/** Files changed from `baseSha` to `headSha` (two commits), cached by tree pair. */
export function commitDiff(state: EmulatorState, baseSha: string | undefined, headSha: string): FileChange[] {
  const baseTree = baseSha ? treeOf(state, baseSha) : "";
  const headTree = treeOf(state, headSha);
  let cache = diffCache.get(state);
  if (!cache) {
    cache = new Map();
    diffCache.set(state, cache);
  }
  const key = `${baseTree}..${headTree}`;
  let changes = cache.get(key);
  if (!changes) {
    const base = baseTree ? state.store.flatten(baseTree) : new Map();
    changes = diffTrees(state.store, base, state.store.flatten(headTree));
    cache.set(key, changes);
  }
  return changes;
}

/** Three-dot diff, as GitHub shows for pull requests and compare: merge base → head. */
export function threeDotDiff(state: EmulatorState, baseSha: string, headSha: string): FileChange[] {
  return commitDiff(state, state.store.mergeBase(baseSha, headSha) ?? baseSha, headSha);
}

// ---------------------------------------------------------------------------------------------
// Pull requests

export function requirePull(issue: IssueRecord): PullFields {
  if (!issue.pull) throw new HttpError(404, "Not Found");
  return issue.pull;
}

export function headRepoOf(state: EmulatorState, pull: PullFields): RepoRecord | undefined {
  return state.repos.get(pull.headRepo);
}

/** Re-reads head and base shas from their branches (a push to the branch moves the PR). */
export function refreshPull(state: EmulatorState, repo: RepoRecord, pull: PullFields): PullFields {
  const headRepo = headRepoOf(state, pull);
  const head = (headRepo && branchHead(headRepo, pull.headRef)) ?? pull.headSha;
  const headMoved = head !== pull.headSha;
  pull.headSha = head;
  if (!state.staleBaseSha || headMoved) pull.baseSha = branchHead(repo, pull.baseRef) ?? pull.baseSha;
  return pull;
}

export function pullChanges(state: EmulatorState, repo: RepoRecord, pull: PullFields): FileChange[] {
  refreshPull(state, repo, pull);
  return threeDotDiff(state, pull.baseSha, pull.headSha);
}

export interface CreatePullOptions {
  number?: number;
  base: string;
  head: string;
  headRepo: RepoRecord;
  title: string;
  body?: string | null;
  user: string;
  draft?: boolean;
}

function pullError(message: string): HttpError {
  return validationFailed([{ resource: "PullRequest", code: "custom", message }]);
}

export function createPull(state: EmulatorState, repo: RepoRecord, opts: CreatePullOptions): IssueRecord {
  const baseSha = branchHead(repo, opts.base);
  if (!baseSha) throw validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
  const headSha = branchHead(opts.headRepo, opts.head);
  if (!headSha) throw validationFailed([{ resource: "PullRequest", field: "head", code: "invalid" }]);
  const headKey = repoKey(opts.headRepo.owner, opts.headRepo.name);
  const label = `${opts.headRepo.owner}:${opts.head}`;
  for (const other of repo.issues.values()) {
    const p = other.pull;
    if (
      other.state === "open" &&
      p &&
      p.headRepo === headKey &&
      p.headRef === opts.head &&
      p.baseRef === opts.base
    ) {
      throw pullError(`A pull request already exists for ${label}.`);
    }
  }
  if (state.store.isAncestor(headSha, baseSha)) {
    throw pullError(`No commits between ${opts.base} and ${opts.head}`);
  }
  const number = opts.number ?? repo.nextNumber;
  if (repo.issues.has(number))
    throw new Error(`github-emulator: #${number} already exists in ${repo.fullName}`);
  repo.nextNumber = Math.max(repo.nextNumber, number + 1);
  userRecord(state, opts.user);
  const time = now(state);
  const issue: IssueRecord = {
    number,
    id: nextId(state),
    title: opts.title,
    body: opts.body ?? null,
    user: opts.user,
    state: "open",
    labels: [],
    events: [],
    createdAt: time,
    updatedAt: time,
    closedAt: null,
    pull: {
      id: nextId(state),
      baseRef: opts.base,
      headRef: opts.head,
      headRepo: headKey,
      headSha,
      baseSha,
      draft: opts.draft ?? false,
      merged: false,
      mergedAt: null,
    },
  };
  repo.issues.set(number, issue);
  return issue;
}

// ---------------------------------------------------------------------------------------------
// Labels

const DEFAULT_LABEL_COLOR = "ededed";

/** The repository label called `name`, created on first use as GitHub does when labelling. */
export function ensureLabel(state: EmulatorState, repo: RepoRecord, name: string): LabelRecord {
  const key = name.toLowerCase();
  let label = repo.labels.get(key);
  if (!label) {
    label = { id: nextId(state), name, color: DEFAULT_LABEL_COLOR, description: null };
    repo.labels.set(key, label);
  }
  return label;
}

function recordLabelEvent(
  state: EmulatorState,
  issue: IssueRecord,
  event: "labeled" | "unlabeled",
  label: LabelRecord,
  actor: string,
): void {
  issue.events.push({
    id: nextId(state),
    event,
    actor,
    label: { name: label.name, color: label.color },
    createdAt: now(state),
  });
  issue.updatedAt = now(state);
}

export function addLabels(
  state: EmulatorState,
  repo: RepoRecord,
  issue: IssueRecord,
  names: string[],
  actor: string,
): void {
  for (const name of names) {
    if (name.trim() === "") throw invalid("Label", "name", "name can't be blank");
    const label = ensureLabel(state, repo, name);
    const key = label.name.toLowerCase();
    if (issue.labels.includes(key)) continue;
    issue.labels.push(key);
    recordLabelEvent(state, issue, "labeled", label, actor);
  }
}

export function removeLabel(
  state: EmulatorState,
  repo: RepoRecord,
  issue: IssueRecord,
  name: string,
  actor: string,
): void {
  const key = name.toLowerCase();
  const label = repo.labels.get(key);
  if (!label || !issue.labels.includes(key)) throw new HttpError(404, "Label does not exist");
  issue.labels = issue.labels.filter((l) => l !== key);
  recordLabelEvent(state, issue, "unlabeled", label, actor);
}

export function issueLabels(repo: RepoRecord, issue: IssueRecord): LabelRecord[] {
  return issue.labels.flatMap((key) => {
    const label = repo.labels.get(key);
    return label ? [label] : [];
  });
}
