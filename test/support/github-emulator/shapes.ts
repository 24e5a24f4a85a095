/**
 * Response bodies shaped like GitHub's (field names from @octokit/openapi's api.github.com
 * description). Every builder takes a `View`: the state plus the URL bases of the request.
 */
import type { FileChange } from "./diff.ts";
import type { Signature, TreeEntry } from "./git.ts";
import type { Urls } from "./http.ts";
import { pullChanges, refreshPull } from "./ops.ts";
import {
  type AppRecord,
  appForBot,
  type CheckRunRecord,
  type CommentRecord,
  type EmulatorState,
  type IssueEventRecord,
  type IssueRecord,
  type LabelRecord,
  nodeId,
  type Permission,
  type PullFields,
  permissionOf,
  type RepoRecord,
  userRecord,
} from "./state.ts";

export interface View {
  state: EmulatorState;
  urls: Urls;
}

const EPOCH = "2026-01-01T00:00:00Z";

export function repoApi(view: View, repo: RepoRecord): string {
  return `${view.urls.api}/repos/${repo.fullName}`;
}

export function repoWeb(view: View, repo: RepoRecord): string {
  return `${view.urls.web}/${repo.fullName}`;
}

/** Percent-encodes each segment of a file path, keeping the slashes. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

// ---------------------------------------------------------------------------------------------
// Users, apps, repositories

export function userJson(view: View, login: string) {
  const user = userRecord(view.state, login);
  const api = `${view.urls.api}/users/${encodeURIComponent(user.login)}`;
  const app = appForBot(view.state, user.login);
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type, user.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: app ? `${view.urls.web}/apps/${app.slug}` : `${view.urls.web}/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    user_view_type: "public",
    site_admin: false,
  };
}

export type User = ReturnType<typeof userJson>;

export function appJson(view: View, app: AppRecord) {
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId("Integration", app.id),
    client_id: `Iv1.${app.id.toString(16).padStart(16, "0")}`,
    owner: userJson(view, app.owner),
    name: app.name,
    description: "",
    external_url: view.urls.web,
    html_url: `${view.urls.web}/apps/${app.slug}`,
    created_at: EPOCH,
    updated_at: EPOCH,
    permissions: {
      checks: "write",
      contents: "write",
      issues: "write",
      metadata: "read",
      pull_requests: "write",
    },
    events: ["check_run", "issue_comment", "pull_request"],
    installations_count: 1,
  };
}

/** The app behind a bot login, or null for people. */
export function performedViaApp(view: View, login: string) {
  const app = appForBot(view.state, login);
  return app ? appJson(view, app) : null;
}

function repoPermissions(permission: Permission) {
  const rank = { none: 0, read: 1, write: 2, admin: 3 }[permission];
  return { admin: rank >= 3, maintain: rank >= 3, push: rank >= 2, triage: rank >= 2, pull: rank >= 1 };
}

export function repoJson(view: View, repo: RepoRecord) {
  const api = repoApi(view, repo);
  const web = repoWeb(view, repo);
  const host = new URL(view.urls.web).host;
  const openIssues = [...repo.issues.values()].filter((i) => i.state === "open").length;
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: repo.fullName,
    owner: userJson(view, repo.owner),
    private: repo.private,
    html_url: web,
    description: null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://${host}/${repo.fullName}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${host}:${repo.fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${web}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: web,
    homepage: null,
    language: null,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? "private" : "public",
    pushed_at: repo.pushedAt,
    created_at: repo.createdAt,
    updated_at: repo.updatedAt,
    allow_forking: true,
    web_commit_signoff_required: false,
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
    license: null,
  };
}

/** `GET /repos/{owner}/{repo}`: the repository plus the caller's permissions and network counts. */
export function fullRepoJson(view: View, repo: RepoRecord, caller: string | undefined) {
  const permission: Permission = caller === undefined ? "read" : permissionOf(repo, caller);
  return {
    ...repoJson(view, repo),
    permissions: repoPermissions(caller?.endsWith("[bot]") ? "write" : permission),
    network_count: 0,
    subscribers_count: 0,
  };
}

export function collaboratorPermissionJson(view: View, repo: RepoRecord, login: string) {
  const permission = permissionOf(repo, login);
  return {
    permission,
    role_name: permission,
    user: { ...userJson(view, login), permissions: repoPermissions(permission), role_name: permission },
  };
}

function authorAssociation(repo: RepoRecord, login: string): string {
  if (login.toLowerCase() === repo.owner.toLowerCase()) return "OWNER";
  if (repo.permissions.has(login.toLowerCase())) return "COLLABORATOR";
  return "NONE";
}

// ---------------------------------------------------------------------------------------------
// Issues: labels, comments, events

export function labelJson(view: View, repo: RepoRecord, label: LabelRecord) {
  return {
    id: label.id,
    node_id: nodeId("Label", label.id),
    url: `${repoApi(view, repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: false,
  };
}

function issueHtml(view: View, repo: RepoRecord, issue: IssueRecord): string {
  return `${repoWeb(view, repo)}/${issue.pull ? "pull" : "issues"}/${issue.number}`;
}

export function commentJson(view: View, repo: RepoRecord, comment: CommentRecord) {
  const api = repoApi(view, repo);
  const issue = repo.issues.get(comment.issueNumber);
  const html = issue ? issueHtml(view, repo, issue) : `${repoWeb(view, repo)}/issues/${comment.issueNumber}`;
  const url = `${api}/issues/comments/${comment.id}`;
  return {
    id: comment.id,
    node_id: nodeId("IssueComment", comment.id),
    url,
    html_url: `${html}#issuecomment-${comment.id}`,
    body: comment.body,
    user: userJson(view, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    issue_url: `${api}/issues/${comment.issueNumber}`,
    author_association: authorAssociation(repo, comment.user),
    performed_via_github_app: performedViaApp(view, comment.user),
    reactions: {
      url: `${url}/reactions`,
      total_count: 0,
      "+1": 0,
      "-1": 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
  };
}

export function issueEventJson(view: View, repo: RepoRecord, event: IssueEventRecord) {
  return {
    id: event.id,
    node_id: nodeId("LabeledEvent", event.id),
    url: `${repoApi(view, repo)}/issues/events/${event.id}`,
    actor: userJson(view, event.actor),
    event: event.event,
    commit_id: null,
    commit_url: null,
    created_at: event.createdAt,
    label: event.label,
    performed_via_github_app: performedViaApp(view, event.actor),
  };
}

// ---------------------------------------------------------------------------------------------
// Pull requests

function branchSide(view: View, repo: RepoRecord | undefined, ref: string, sha: string) {
  const owner = repo?.owner ?? "unknown";
  return {
    label: `${owner}:${ref}`,
    ref,
    sha,
    user: userJson(view, owner),
    repo: repo ? repoJson(view, repo) : null,
  };
}

function pullLinks(view: View, repo: RepoRecord, number: number, headSha: string) {
  const api = repoApi(view, repo);
  return {
    self: { href: `${api}/pulls/${number}` },
    html: { href: `${repoWeb(view, repo)}/pull/${number}` },
    issue: { href: `${api}/issues/${number}` },
    comments: { href: `${api}/issues/${number}/comments` },
    review_comments: { href: `${api}/pulls/${number}/comments` },
    review_comment: { href: `${api}/pulls/comments{/number}` },
    commits: { href: `${api}/pulls/${number}/commits` },
    statuses: { href: `${api}/statuses/${headSha}` },
  };
}

function countComments(state: EmulatorState, repo: RepoRecord, number: number): number {
  let count = 0;
  for (const c of state.comments.values()) if (c.repo === repo.fullName && c.issueNumber === number) count++;
  return count;
}

export function pullJson(view: View, repo: RepoRecord, issue: IssueRecord, pull: PullFields) {
  const { state } = view;
  const files = pullChanges(state, repo, pull);
  const api = repoApi(view, repo);
  const html = `${repoWeb(view, repo)}/pull/${issue.number}`;
  const sum = (pick: (f: FileChange) => number) => files.reduce((n, f) => n + pick(f), 0);
  const open = issue.state === "open";
  return {
    url: `${api}/pulls/${issue.number}`,
    id: pull.id,
    node_id: nodeId("PullRequest", pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${issue.number}`,
    commits_url: `${api}/pulls/${issue.number}/commits`,
    review_comments_url: `${api}/pulls/${issue.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${issue.number}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    number: issue.number,
    state: issue.state,
    locked: false,
    title: issue.title,
    user: userJson(view, issue.user),
    body: issue.body,
    labels: issueLabelsJson(view, repo, issue),
    milestone: null,
    active_lock_reason: null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branchSide(view, state.repos.get(pull.headRepo), pull.headRef, pull.headSha),
    base: branchSide(view, repo, pull.baseRef, pull.baseSha),
    _links: pullLinks(view, repo, issue.number, pull.headSha),
    author_association: authorAssociation(repo, issue.user),
    auto_merge: null,
    draft: pull.draft,
    merged: pull.merged,
    mergeable: open ? true : null,
    rebaseable: open ? true : null,
    mergeable_state: open ? "clean" : "unknown",
    merged_by: null,
    comments: countComments(state, repo, issue.number),
    review_comments: 0,
    maintainer_can_modify: false,
    commits: state.store.log(pull.headSha, pull.baseSha).length,
    additions: sum((f) => f.additions),
    deletions: sum((f) => f.deletions),
    changed_files: files.length,
  };
}

export type PullRequest = ReturnType<typeof pullJson>;

function issueLabelsJson(view: View, repo: RepoRecord, issue: IssueRecord) {
  return issue.labels.flatMap((key) => {
    const label = repo.labels.get(key);
    return label ? [labelJson(view, repo, label)] : [];
  });
}

function minimalPull(view: View, repo: RepoRecord, issue: IssueRecord, pull: PullFields) {
  const side = (ref: string, sha: string) => ({
    ref,
    sha,
    repo: { id: repo.id, url: repoApi(view, repo), name: repo.name },
  });
  return {
    id: pull.id,
    number: issue.number,
    url: `${repoApi(view, repo)}/pulls/${issue.number}`,
    head: side(pull.headRef, pull.headSha),
    base: side(pull.baseRef, pull.baseSha),
  };
}

export function diffEntryJson(view: View, repo: RepoRecord, headSha: string, change: FileChange) {
  const path = encodePath(change.filename);
  return {
    sha: change.sha,
    filename: change.filename,
    status: change.status,
    additions: change.additions,
    deletions: change.deletions,
    changes: change.changes,
    blob_url: `${repoWeb(view, repo)}/blob/${headSha}/${path}`,
    raw_url: `${repoWeb(view, repo)}/raw/${headSha}/${path}`,
    contents_url: `${repoApi(view, repo)}/contents/${path}?ref=${headSha}`,
    ...(change.patch !== undefined ? { patch: change.patch } : {}),
    ...(change.previous_filename !== undefined ? { previous_filename: change.previous_filename } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Check runs

export function checkRunJson(view: View, repo: RepoRecord, run: CheckRunRecord) {
  const url = `${repoApi(view, repo)}/check-runs/${run.id}`;
  const htmlUrl = `${repoWeb(view, repo)}/runs/${run.id}`;
  const app = view.state.apps.get(run.app);
  const pulls = [...repo.issues.values()].flatMap((issue) => {
    const pull = issue.pull && issue.state === "open" ? refreshPull(view.state, repo, issue.pull) : undefined;
    return pull && pull.headSha === run.headSha ? [minimalPull(view, repo, issue, pull)] : [];
  });
  return {
    id: run.id,
    head_sha: run.headSha,
    node_id: nodeId("CheckRun", run.id),
    external_id: run.externalId,
    url,
    html_url: htmlUrl,
    details_url: run.detailsUrl ?? htmlUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.output.annotationsCount,
      annotations_url: `${url}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.checkSuiteId },
    app: app ? appJson(view, app) : null,
    pull_requests: pulls,
  };
}

// ---------------------------------------------------------------------------------------------
// Git data

const UNSIGNED = { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null };

function parentJson(view: View, repo: RepoRecord, sha: string, kind: "git" | "repo") {
  const url =
    kind === "git" ? `${repoApi(view, repo)}/git/commits/${sha}` : `${repoApi(view, repo)}/commits/${sha}`;
  return { sha, url, html_url: `${repoWeb(view, repo)}/commit/${sha}` };
}

function signatureJson(s: Signature) {
  return { name: s.name, email: s.email, date: s.date };
}

export function gitCommitJson(view: View, repo: RepoRecord, sha: string) {
  const commit = view.state.store.commit(sha);
  if (!commit) throw new Error(`github-emulator: ${sha} is not a commit`);
  return {
    sha,
    node_id: nodeId("Commit", sha),
    url: `${repoApi(view, repo)}/git/commits/${sha}`,
    html_url: `${repoWeb(view, repo)}/commit/${sha}`,
    author: signatureJson(commit.author),
    committer: signatureJson(commit.committer),
    tree: { sha: commit.tree, url: `${repoApi(view, repo)}/git/trees/${commit.tree}` },
    message: commit.message,
    parents: commit.parents.map((p) => parentJson(view, repo, p, "git")),
    verification: UNSIGNED,
  };
}

/** The REST "commit" object (`GET /repos/{o}/{r}/commits/{ref}`, compare's `commits`). */
export function commitJson(view: View, repo: RepoRecord, sha: string) {
  const git = gitCommitJson(view, repo, sha);
  return {
    url: `${repoApi(view, repo)}/commits/${sha}`,
    sha,
    node_id: git.node_id,
    html_url: git.html_url,
    comments_url: `${repoApi(view, repo)}/commits/${sha}/comments`,
    commit: {
      url: git.url,
      author: git.author,
      committer: git.committer,
      message: git.message,
      comment_count: 0,
      tree: git.tree,
      verification: UNSIGNED,
    },
    author: null,
    committer: null,
    parents: git.parents.map((p) => parentJson(view, repo, p.sha, "repo")),
  };
}

export function refJson(view: View, repo: RepoRecord, ref: string, sha: string) {
  return {
    ref,
    node_id: nodeId("Ref", `${repo.id}:${ref}`),
    url: `${repoApi(view, repo)}/git/${ref}`,
    object: { sha, type: "commit", url: `${repoApi(view, repo)}/git/commits/${sha}` },
  };
}

export function treeEntryJson(view: View, repo: RepoRecord, path: string, entry: TreeEntry) {
  const api = repoApi(view, repo);
  const base = { path, mode: entry.mode, type: entry.type, sha: entry.sha };
  if (entry.type === "tree") return { ...base, url: `${api}/git/trees/${entry.sha}` };
  if (entry.type === "commit") return base;
  const size = view.state.store.blob(entry.sha)?.content.length ?? 0;
  return { ...base, size, url: `${api}/git/blobs/${entry.sha}` };
}

// ---------------------------------------------------------------------------------------------
// Contents

function contentLinks(view: View, repo: RepoRecord, path: string, ref: string, entry: TreeEntry) {
  const api = repoApi(view, repo);
  const self = `${api}/contents/${encodePath(path)}?ref=${encodeURIComponent(ref)}`;
  const kind = entry.type === "tree" ? "tree" : "blob";
  const git = entry.type === "commit" ? null : `${api}/git/${kind}s/${entry.sha}`;
  const html = entry.type === "commit" ? null : `${repoWeb(view, repo)}/${kind}/${ref}/${encodePath(path)}`;
  return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
}

function contentType(entry: TreeEntry): "dir" | "file" | "symlink" | "submodule" {
  if (entry.type === "tree") return "dir";
  if (entry.type === "commit") return "submodule";
  return entry.mode === "120000" ? "symlink" : "file";
}

/** A directory listing item (no content). */
export function contentEntryJson(view: View, repo: RepoRecord, path: string, ref: string, entry: TreeEntry) {
  const type = contentType(entry);
  const size =
    type === "file" || type === "symlink" ? (view.state.store.blob(entry.sha)?.content.length ?? 0) : 0;
  const links = contentLinks(view, repo, path, ref, entry);
  return {
    type,
    size,
    name: entry.name,
    path,
    sha: entry.sha,
    url: links.url,
    git_url: links.git_url,
    html_url: links.html_url,
    download_url:
      type === "file" ? `${repoWeb(view, repo)}/raw/${encodeURIComponent(ref)}/${encodePath(path)}` : null,
    _links: links._links,
  };
}

/** Base64 wrapped at 60 columns, as the contents API returns it. */
function wrappedBase64(content: Buffer): string {
  const b64 = content.toString("base64");
  return `${b64.replace(/.{60}/g, "$&\n")}${b64.length % 60 === 0 ? "" : "\n"}`;
}

/** A single file (type "file"), symlink or submodule, with its content when it has one. */
export function contentFileJson(view: View, repo: RepoRecord, path: string, ref: string, entry: TreeEntry) {
  const base = contentEntryJson(view, repo, path, ref, entry);
  const blob = view.state.store.blob(entry.sha);
  if (base.type === "symlink") return { ...base, target: blob?.content.toString("utf8") ?? "" };
  if (base.type === "submodule") return { ...base, submodule_git_url: "" };
  return { ...base, content: wrappedBase64(blob?.content ?? Buffer.alloc(0)), encoding: "base64" };
}

// ---------------------------------------------------------------------------------------------
// Apps

export function installationJson(view: View, account: string) {
  const { state } = view;
  const app = state.apps.get(state.appSlug);
  const owner = userRecord(state, account);
  return {
    id: state.installationId,
    account: userJson(view, account),
    repository_selection: "all",
    access_tokens_url: `${view.urls.api}/app/installations/${state.installationId}/access_tokens`,
    repositories_url: `${view.urls.api}/installation/repositories`,
    html_url: `${view.urls.web}/settings/installations/${state.installationId}`,
    app_id: app?.id ?? 1,
    app_slug: state.appSlug,
    target_id: owner.id,
    target_type: owner.type === "Organization" ? "Organization" : "User",
    permissions: {
      checks: "write",
      contents: "write",
      issues: "write",
      metadata: "read",
      pull_requests: "write",
    },
    events: ["check_run", "issue_comment", "pull_request"],
    created_at: EPOCH,
    updated_at: EPOCH,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}
