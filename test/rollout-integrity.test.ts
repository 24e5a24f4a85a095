/**
 * Issue 13, the integrity of the rollout between labels: a hand edit of `rollout.key` is flagged
 * on its PR, and re-running the `modelgate/rollout` check re-judges. The App's real server on
 * loopback, signed `@octokit/webhooks-examples` payloads, the GitHub REST emulator.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { promotionTrailers } from "../src/core/protocol.ts";
import { embedEvidence } from "../src/core/report/evidence.ts";
import type { EvalResult, Kpis } from "../src/core/result.ts";
import { readCheckRecord, targetFromTitle, withCheckRecord } from "../src/core/rollout/check-record.ts";
import { isAppPromotionCommit, judgeHandEdit } from "../src/core/rollout/hand-edit.ts";
import { type AppHarness, BASE_FILES, example, OWNER, REPO, startAppHarness } from "./support/app-harness.ts";
import { WORKFLOW_TOKEN } from "./support/github-emulator.ts";

const ROLLOUT_CHECK = "modelgate/rollout";
const LLM = "config/llm.json";
const BOT = "modelgate[bot]";

type LlmConfig = {
  llm: { default_model: string; routes: Record<string, string> };
  models: Record<string, string>;
  rollout: { candidate_percent: number | string };
};

function atShare(share: number | string, edit: (config: LlmConfig) => void = () => {}): string {
  const config = JSON.parse(BASE_FILES[LLM] ?? "{}") as LlmConfig;
  config.rollout.candidate_percent = share;
  edit(config);
  return `${JSON.stringify(config, null, 2)}\n`;
}

const moveQna = (c: LlmConfig) => {
  c.llm.routes.general_qna = "gpt-5.5";
};

/** Production numbers from a file on the base branch: no Prometheus needed. */
const POLICY = [
  "version: 1",
  "rollout:",
  "  key: rollout.candidate_percent",
  "  phases: [10, 30, 50, 100]",
  "  metrics:",
  "    source: file",
  "    file: metrics/rollout.json",
  "",
].join("\n");

const KPIS: Kpis = {
  completion_rate: 0.83,
  retry_count: 0.1,
  tokens_per_completed_task: 1200,
  cost_per_completed_task: 0.01,
  human_takeover_rate: 0.02,
  error_rate: 0.01,
  latency_p50_ms: 900,
  latency_p95_ms: 2400,
  tool_calls_per_task: 1.5,
};

function passingEval(): EvalResult {
  const side = { kpis: KPIS, cases: 200, requests: 220, cache_hits: 0 };
  return {
    schema_version: 1,
    verdict: "pass",
    partial: false,
    base: side,
    head: side,
    routes: {},
    deltas: { completion_rate: { delta: 0, ci95: [-0.01, 0.01] } },
    min_detectable_effect: 0.06,
    gates: [{ name: "max_error_rate", status: "pass", value: 0.01, threshold: 0.02, ci95: [0.003, 0.019] }],
    warnings: [],
    selection: { case_ids: [], reasons: [], selected: 200, all: false },
    cases: [],
  };
}

let h: AppHarness;

async function api(token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${h.emu.url}/repos/${OWNER}/${REPO}${path}`, {
    method,
    headers: { authorization: `token ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

/** The Action's passing eval evidence for `sha`, as github-actions[bot] publishes it. */
async function publishEval(number: number, sha: string): Promise<void> {
  await api(WORKFLOW_TOKEN, "POST", `/issues/${number}/comments`, {
    body: `<!-- modelgate:eval -->\n**modelgate eval: PASS**\n\n${embedEvidence(passingEval(), sha)}`,
  });
}

function setMain(share: number, edit: (c: LlmConfig) => void = moveQna): void {
  h.push("main", { [LLM]: atShare(share, edit), ".github/modelgate.yml": POLICY });
}

async function pushed(number: number, action = "opened", sender = "dev"): Promise<void> {
  const event = h.pullRequestEvent(action, number, { sender: { login: sender, id: 4242, type: "User" } });
  expect((await h.deliver("pull_request", event)).status).toBe(200);
}

async function labelAndDeliver(number: number, label: string, login = "maintainer"): Promise<void> {
  const event = h.pullRequestEvent("labeled", number, {
    label: { name: label },
    sender: { login, id: 5000, type: "User" },
  });
  await h.label(number, label, login);
  expect((await h.deliver("pull_request", event)).status).toBe(200);
}

async function rerun(
  sha: string,
  login = "maintainer",
  id?: string,
): Promise<{ status: number; payload: Record<string, unknown> }> {
  const [run] = rolloutChecks(sha);
  if (!run) throw new Error(`no modelgate/rollout check on ${sha}`);
  const payload = h.checkRunEvent("rerequested", run);
  payload.sender = { login, id: 5001, type: "User" };
  const delivery = await h.deliver("check_run", payload, id ? { id } : {});
  return { status: delivery.status, payload };
}

function rolloutChecks(sha?: string) {
  return [...h.emu.state.checkRuns.values()].filter(
    (run) => run.name === ROLLOUT_CHECK && (sha === undefined || run.headSha === sha),
  );
}

function decisionComments(number: number) {
  return [...h.emu.state.comments.values()].filter(
    (c) => c.issueNumber === number && c.body.includes("<!-- modelgate:rollout ") && c.user === BOT,
  );
}

async function commitsOn(number: number): Promise<Array<{ sha: string; message: string }>> {
  const commits = (await api(WORKFLOW_TOKEN, "GET", `/pulls/${number}/commits`)) as Array<{
    sha: string;
    commit: { message: string };
  }>;
  return commits.map((c) => ({ sha: c.sha, message: c.commit.message }));
}

async function shareAt(ref: string): Promise<number> {
  const response = await fetch(
    `${h.emu.url}/repos/${OWNER}/${REPO}/contents/${LLM}?ref=${encodeURIComponent(ref)}`,
    { headers: { authorization: `token ${WORKFLOW_TOKEN}`, accept: "application/vnd.github.raw" } },
  );
  return Number((JSON.parse(await response.text()) as LlmConfig).rollout.candidate_percent);
}

beforeEach(async () => {
  vi.stubEnv("PROMETHEUS_URL", "");
  h = await startAppHarness();
  h.user("maintainer", "write");
  h.user("dev", "write");
  h.user("mallory", "read");
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await h.close();
});

describe("a hand edit of rollout.key", () => {
  test("10 → 100 by hand is flagged: a failing modelgate/rollout check that says what to do", async () => {
    setMain(10);
    const number = h.openPR("hand-100", { [LLM]: atShare(100, moveQna) });
    const head = h.headSha(number);
    await pushed(number, "opened");
    const checks = rolloutChecks(head);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ status: "completed", conclusion: "failure", app: "modelgate" });
    expect(checks[0]?.output.title).toBe("Share changed by hand: 10 % → 100 %");
    expect(checks[0]?.output.summary).toContain(
      "The share changed by hand from 10 to 100 in `config/llm.json` at `rollout.candidate_percent`; apply `rollout:100` to promote through the gates (or revert the edit).",
    );
    // A redelivery or a reopen finds the same check and writes nothing new.
    await pushed(number, "reopened");
    expect(rolloutChecks(head)).toHaveLength(1);
    expect(decisionComments(number)).toHaveLength(0);
  }, 30_000);

  test("the flag clears through the label: a successful promotion overwrites the same check", async () => {
    setMain(0, () => {});
    const number = h.openPR("hand-10", { [LLM]: atShare(10, moveQna) });
    const head = h.headSha(number);
    await pushed(number, "opened");
    expect(rolloutChecks(head)[0]?.output.title).toBe("Share changed by hand: 0 % → 10 %");
    await publishEval(number, head);
    await labelAndDeliver(number, "rollout:10");
    // The PR already carries 10 %: nothing is committed, the check on the same head turns green.
    expect(h.headSha(number)).toBe(head);
    const checks = rolloutChecks(head);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ conclusion: "success" });
    expect(checks[0]?.output.title).toBe("Promoted to 10 % (phase 1 of 4)");
    // A later event on the same head leaves modelgate's success alone.
    await pushed(number, "reopened");
    expect(rolloutChecks(head)[0]).toMatchObject({ conclusion: "success" });
  }, 30_000);

  test("the App's own promotion commit is not flagged; the same commit forged by a user is", async () => {
    setMain(0, () => {});
    const number = h.openPR("promote", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await pushed(number, "opened");
    // Routes only, the share untouched: nothing to flag.
    expect(rolloutChecks()).toHaveLength(0);
    await publishEval(number, pinned);
    await labelAndDeliver(number, "rollout:10");
    const own = h.headSha(number);
    expect(own).not.toBe(pinned);
    expect(rolloutChecks(own)[0]).toMatchObject({ conclusion: "success" });

    // The synchronize of the App's own push, arriving before its success check was written
    // (another replica, or a check write that is still to come).
    for (const run of rolloutChecks(own)) h.emu.state.checkRuns.delete(run.id);
    await pushed(number, "synchronize", BOT);
    expect(rolloutChecks(own)).toHaveLength(0);

    // The same commit, built by a user who signs as the bot and copies the trailers: flagged,
    // because GitHub's event says who pushed it.
    const devToken = "token-dev";
    const commit = (await api(devToken, "GET", `/git/commits/${own}`)) as {
      message: string;
      tree: { sha: string };
      author: { name: string; email: string };
    };
    const forgedSha = (
      (await api(devToken, "POST", "/git/commits", {
        message: commit.message,
        tree: commit.tree.sha,
        parents: [pinned],
        author: { name: commit.author.name, email: commit.author.email, date: "2026-11-02T10:00:00Z" },
        committer: { name: commit.author.name, email: commit.author.email, date: "2026-11-02T10:00:00Z" },
      })) as { sha: string }
    ).sha;
    expect(forgedSha).not.toBe(own);
    await api(devToken, "PATCH", "/git/refs/heads/promote", { sha: forgedSha, force: true });
    expect(h.headSha(number)).toBe(forgedSha);
    await pushed(number, "synchronize", "dev");
    expect(rolloutChecks(forgedSha)[0]).toMatchObject({ conclusion: "failure" });
    expect(rolloutChecks(forgedSha)[0]?.output.title).toBe("Share changed by hand: 0 % → 10 %");
  }, 30_000);

  test("a PR that does not touch the key, or lowers it (a rollback), is not flagged", async () => {
    setMain(30);
    const readme = h.openPR("readme", { "README.md": "# support bot\n\nMore.\n" });
    await pushed(readme, "opened");
    const routes = h.openPR("routes", {
      [LLM]: atShare(30, (c) => {
        moveQna(c);
        c.llm.routes.agentic_coding = "gpt-5.5-2026-04-23";
      }),
    });
    await pushed(routes, "opened");
    const back = h.openPR("back", { [LLM]: atShare(0, moveQna) });
    await pushed(back, "opened");
    expect(rolloutChecks()).toHaveLength(0);

    // The rollback PR the App opens itself (share → 0, routes back) is a decrease too.
    await labelAndDeliver(readme, "rollout:rollback");
    const repo = h.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
    const rollback = [...(repo?.issues.values() ?? [])].find((i) =>
      i.pull?.headRef.startsWith("modelgate/rollback-"),
    );
    if (!rollback) throw new Error("no rollback PR");
    await pushed(rollback.number, "opened", BOT);
    expect(rolloutChecks()).toHaveLength(0);
  }, 30_000);

  test("an unreadable LLM config fails closed, naming the file", async () => {
    setMain(10);
    const broken = h.openPR("broken", { [LLM]: '{ "rollout": { "candidate_percent": 100 ' });
    await pushed(broken, "opened");
    const [check] = rolloutChecks(h.headSha(broken));
    expect(check).toMatchObject({ conclusion: "failure" });
    expect(check?.output.title).toBe("Cannot read the rollout share in config/llm.json");
    expect(check?.output.summary).toMatch(
      /config\/llm\.json \(head [0-9a-f]{7}\): cannot parse the LLM config/,
    );

    const word = h.openPR("word", { [LLM]: atShare("all", moveQna) });
    await pushed(word, "opened");
    const [wordCheck] = rolloutChecks(h.headSha(word));
    expect(wordCheck).toMatchObject({ conclusion: "failure" });
    expect(wordCheck?.output.summary).toContain(
      'rollout.candidate\\_percent: expected a traffic share from 0 to 100, found "all"',
    );

    // GitHub failing the read past its retries: no judgement, so the check fails and says why.
    const down = h.openPR("down", { [LLM]: atShare(30, moveQna) });
    h.emu.failNext({ method: "GET", pathIncludes: "llm.json" }, 502, 10);
    await pushed(down, "opened");
    const [downCheck] = rolloutChecks(h.headSha(down));
    expect(downCheck).toMatchObject({ conclusion: "failure" });
    expect(downCheck?.output.title).toBe("Cannot read the rollout share in config/llm.json");
    expect(downCheck?.output.summary).toContain(
      "fails closed: cannot read config/llm.json on main or at the head: Server Error",
    );
  }, 30_000);
});

describe("re-running the modelgate/rollout check", () => {
  test("a refused promotion re-run after the evidence appears promotes, once", async () => {
    setMain(0, () => {});
    const number = h.openPR("rerun", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await labelAndDeliver(number, "rollout:10");
    expect(rolloutChecks(pinned)[0]).toMatchObject({ conclusion: "failure" });
    expect(rolloutChecks(pinned)[0]?.output.title).toBe("rollout:10 refused: eval evidence failed");

    // Re-running without new evidence changes nothing.
    expect((await rerun(pinned)).status).toBe(200);
    expect(h.headSha(number)).toBe(pinned);
    expect(rolloutChecks(pinned)[0]).toMatchObject({ conclusion: "failure" });

    await publishEval(number, pinned);
    const id = "5d1c8f00-0000-4000-8000-00000000000a";
    const { payload } = await rerun(pinned, "maintainer", id);
    const head = h.headSha(number);
    expect(head).not.toBe(pinned);
    expect(await shareAt(head)).toBe(10);
    expect(rolloutChecks(head)[0]).toMatchObject({ conclusion: "success" });
    const body = decisionComments(number).at(-1)?.body ?? "";
    expect(body).toContain("### modelgate rollout: promoted to 10 %");
    expect(body).toContain(
      "Re-run of the `modelgate/rollout` check (for `rollout:10`) requested by **@\u200dmaintainer** (permission: write)",
    );
    const commits = await commitsOn(number);
    expect(commits).toHaveLength(2);
    expect(commits.at(-1)?.message).toContain(
      `Re-run of modelgate/rollout for rollout:10 by @maintainer on ${pinned}`,
    );

    // The same delivery again, and another re-run of the old check: never a second commit.
    expect((await h.deliver("check_run", payload, { id })).status).toBe(200);
    await rerun(pinned);
    expect(await commitsOn(number)).toHaveLength(2);
    expect(h.headSha(number)).toBe(head);
    expect(rolloutChecks(head)).toHaveLength(1);
    expect(rolloutChecks(head)[0]).toMatchObject({ conclusion: "success" });

    // Re-running the success on the App's own commit judges the head below it (where the
    // evidence is) and finds its own commit: still a success, still nothing new committed.
    await rerun(head);
    expect(await commitsOn(number)).toHaveLength(2);
    expect(rolloutChecks(head)[0]).toMatchObject({ conclusion: "success" });
    expect(decisionComments(number).at(-1)?.body).toContain("nothing new was committed");
  }, 30_000);

  test("a re-run never takes a copy of the App's commit with more changes for its own", async () => {
    setMain(0, () => {});
    const number = h.openPR("sibling", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await publishEval(number, pinned);
    await labelAndDeliver(number, "rollout:10");
    const own = h.headSha(number);
    expect(rolloutChecks(own)[0]).toMatchObject({ conclusion: "success" });

    // A writer replaces the App's commit with one that copies its message (trailers and all)
    // but also moves another route to the candidate, which no eval has seen.
    const devToken = "token-dev";
    const sneaky = atShare(10, (c) => {
      moveQna(c);
      c.llm.default_model = "gpt-5.5";
    });
    const message = (await commitsOn(number)).at(-1)?.message ?? "";
    const parentTree = ((await api(devToken, "GET", `/git/commits/${pinned}`)) as { tree: { sha: string } })
      .tree.sha;
    const tree = (
      (await api(devToken, "POST", "/git/trees", {
        base_tree: parentTree,
        tree: [{ path: LLM, mode: "100644", type: "blob", content: sneaky }],
      })) as { sha: string }
    ).sha;
    const bot = { name: BOT, email: `1+${BOT}@users.noreply.github.com` };
    const forged = (
      (await api(devToken, "POST", "/git/commits", {
        message,
        tree,
        parents: [pinned],
        author: bot,
        committer: bot,
      })) as { sha: string }
    ).sha;
    await api(devToken, "PATCH", "/git/refs/heads/sibling", { sha: forged, force: true });
    expect(h.headSha(number)).toBe(forged);

    // Re-running the App's (now stale) success check must not vouch for the copy.
    await rerun(own);
    expect(rolloutChecks(forged).filter((c) => c.conclusion === "success")).toHaveLength(0);
    expect(decisionComments(number).at(-1)?.body).toContain("new commits since the check");
  }, 30_000);

  test("a re-run by a user without write access changes nothing and says why", async () => {
    setMain(0, () => {});
    const number = h.openPR("reader", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await labelAndDeliver(number, "rollout:10");
    const before = structuredClone(rolloutChecks(pinned));
    await publishEval(number, pinned);
    expect((await rerun(pinned, "mallory")).status).toBe(200);
    expect(h.headSha(number)).toBe(pinned);
    expect(await commitsOn(number)).toHaveLength(1);
    expect(rolloutChecks()).toEqual(before);
    const body = decisionComments(number).at(-1)?.body ?? "";
    expect(body).toContain(
      "**@\u200dmallory** asked to re-run the `modelgate/rollout` check (for `rollout:10`) but has read permission on this repository; a re-run counts only from a user with write access. Nothing changed.",
    );
  }, 30_000);

  test("a re-run of a check on a commit that is no longer the head refuses and writes no check", async () => {
    setMain(0, () => {});
    const number = h.openPR("stale", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await labelAndDeliver(number, "rollout:10");
    await publishEval(number, pinned);
    const newer = h.push("stale", { "README.md": "# support bot\n\nNewer.\n" });
    await rerun(pinned);
    expect(h.headSha(number)).toBe(newer);
    expect(rolloutChecks(newer)).toHaveLength(0);
    expect(await commitsOn(number)).toHaveLength(2);
    const body = decisionComments(number).at(-1)?.body ?? "";
    expect(body).toContain(
      "### modelgate rollout: Re-run for rollout:10 refused: new commits since the check",
    );
    expect(body).toContain(
      `The re-run check was on \`${pinned.slice(0, 7)}\`, but the PR's head is now \`${newer.slice(0, 7)}\``,
    );
  }, 30_000);

  test("a hand-edit flag re-run after the edit is reverted turns neutral on the PR's head", async () => {
    setMain(10);
    const number = h.openPR("revert", { [LLM]: atShare(100, moveQna) });
    const flagged = h.headSha(number);
    await pushed(number, "opened");
    expect(rolloutChecks(flagged)[0]).toMatchObject({ conclusion: "failure" });
    const reverted = h.push("revert", { [LLM]: atShare(10, moveQna) });
    await pushed(number, "synchronize");
    // Nothing to flag on the new head, and no check is written unasked.
    expect(rolloutChecks(reverted)).toHaveLength(0);

    // A read-only user's re-run of the flag changes nothing.
    await rerun(flagged, "mallory");
    expect(rolloutChecks(reverted)).toHaveLength(0);

    await rerun(flagged);
    const [check] = rolloutChecks(reverted);
    expect(check).toMatchObject({ conclusion: "neutral" });
    expect(check?.output.title).toBe("No hand edit of the rollout share");
    expect(check?.output.summary).toContain("re-run by @\u200dmaintainer (permission: write)");
    // The flag on the old commit stays: that commit does raise the share.
    expect(rolloutChecks(flagged)[0]).toMatchObject({ conclusion: "failure" });
  }, 30_000);
});

describe("Re-run all checks (check_suite.rerequested)", () => {
  test("re-runs each of the App's checks on the commit as its own re-run would", async () => {
    setMain(10);
    const number = h.openPR("suite", { [LLM]: atShare(100, moveQna) });
    const flagged = h.headSha(number);
    await pushed(number, "opened");
    expect(rolloutChecks(flagged)[0]).toMatchObject({ conclusion: "failure" });
    const reverted = h.push("suite", { [LLM]: atShare(10, moveQna) });
    await pushed(number, "synchronize");
    expect(rolloutChecks(reverted)).toHaveLength(0);

    // A real check_suite.rerequested payload, pointed at the flagged commit of this repository.
    const payload = example("check_suite", "rerequested");
    (payload.check_suite as Record<string, unknown>).head_sha = flagged;
    payload.repository = h.emu.getRepository(OWNER, REPO);
    payload.installation = {
      id: h.emu.state.installationId,
      node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
    };
    payload.sender = { login: "maintainer", id: 5001, type: "User" };
    delete payload.organization;
    expect((await h.deliver("check_suite", payload)).status).toBe(200);
    // The rollout check's own re-run: the hand edit is gone from the PR's head, so it is neutral there.
    const [check] = rolloutChecks(reverted);
    expect(check).toMatchObject({ conclusion: "neutral" });
    expect(check?.output.summary).toContain("re-run by @\u200dmaintainer");
  }, 30_000);
});

describe("the pure parts", () => {
  const sides = { base_sha: "a".repeat(40), head_sha: "b".repeat(40) };

  test("judgeHandEdit reads every LLM config format; a missing file or key is 0 %", () => {
    const yaml = (share: number) =>
      `llm:\n  default_model: gpt-5.4\nrollout:\n  candidate_percent: ${share}\n`;
    const key = "rollout.candidate_percent";
    expect(judgeHandEdit({ file: "llm.yaml", key, base: yaml(10), head: yaml(30), ...sides })).toEqual({
      kind: "increase",
      from: 10,
      to: 30,
    });
    expect(
      judgeHandEdit({
        file: ".env",
        key: "CANDIDATE_PERCENT",
        base: "CANDIDATE_PERCENT=50\n",
        head: "CANDIDATE_PERCENT=0\n",
        ...sides,
      }),
    ).toEqual({ kind: "decrease", from: 50, to: 0 });
    expect(judgeHandEdit({ file: "llm.yaml", key, base: null, head: yaml(10), ...sides })).toEqual({
      kind: "increase",
      from: 0,
      to: 10,
    });
    expect(judgeHandEdit({ file: "llm.yaml", key, base: yaml(10), head: null, ...sides })).toEqual({
      kind: "decrease",
      from: 10,
      to: 0,
    });
    // The same text on both sides is not parsed: a broken file the PR leaves alone is not flagged.
    expect(judgeHandEdit({ file: "llm.json", key, base: "{", head: "{", ...sides }).kind).toBe("unchanged");
    const broken = judgeHandEdit({ file: "llm.json", key, base: "{}", head: "{", ...sides });
    expect(broken.kind).toBe("unreadable");
    expect(broken.kind === "unreadable" && broken.message).toMatch(
      /^llm\.json \(head bbbbbbb\): cannot parse/,
    );
  });

  test("isAppPromotionCommit needs the trailers, the one parent they pin and the bot as author and committer", () => {
    const parent = "c".repeat(40);
    const bot = { name: "modelgate[bot]", email: "41+modelgate[bot]@users.noreply.github.com" };
    const commit = {
      message: ["rollout: candidate to 30 %", "", ...promotionTrailers(30, parent)].join("\n"),
      parents: [parent],
      author: bot,
      committer: bot,
    };
    expect(isAppPromotionCommit(commit, 30, "modelgate[bot]")).toBe(true);
    expect(isAppPromotionCommit(commit, 50, "modelgate[bot]")).toBe(false);
    expect(isAppPromotionCommit({ ...commit, parents: [parent, parent] }, 30, "modelgate[bot]")).toBe(false);
    expect(isAppPromotionCommit({ ...commit, parents: ["d".repeat(40)] }, 30, "modelgate[bot]")).toBe(false);
    const dev = { name: "dev", email: "7+dev@users.noreply.github.com" };
    expect(isAppPromotionCommit({ ...commit, committer: dev }, 30, "modelgate[bot]")).toBe(false);
    expect(
      isAppPromotionCommit({ ...commit, author: { ...bot, email: "bot@example.com" } }, 30, "modelgate[bot]"),
    ).toBe(false);
  });

  test("the check record survives only as the summary's first line, and only well-formed", () => {
    const summary = withCheckRecord("### modelgate rollout", { kind: "promotion", target: 30 });
    expect(readCheckRecord(summary)).toEqual({ kind: "promotion", target: 30 });
    expect(readCheckRecord(withCheckRecord("x", { kind: "hand_edit" }))).toEqual({ kind: "hand_edit" });
    expect(readCheckRecord(`text\n${summary}`)).toBeUndefined();
    expect(
      readCheckRecord('<!-- modelgate:rollout-check {"kind":"promotion","target":300} -->'),
    ).toBeUndefined();
    expect(readCheckRecord("<!-- modelgate:rollout-check {nope -->")).toBeUndefined();
    expect(readCheckRecord(null)).toBeUndefined();
  });

  test("a check from before the record is re-judged for the target its title names", () => {
    expect(targetFromTitle("Promoted to 30 % (phase 2 of 4)")).toBe(30);
    expect(targetFromTitle("Hold at 10 %: not enough production evidence for 30 %")).toBe(30);
    expect(targetFromTitle("rollout:50 refused: next phase failed")).toBe(50);
    expect(targetFromTitle("rollout:30% refused: new commits after the label")).toBe(30);
    expect(targetFromTitle("deploy-30 could not be evaluated")).toBe(30);
    expect(targetFromTitle("Invalid modelgate config on the base branch")).toBeUndefined();
    expect(targetFromTitle("Share changed by hand: 10 % → 100 %")).toBeUndefined();
    expect(targetFromTitle("rollout:300 refused: next phase failed")).toBeUndefined();
    expect(targetFromTitle(null)).toBeUndefined();
  });
});
