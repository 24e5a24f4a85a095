/**
 * The Probot app over HTTP (issue 5, point 9): the real server on loopback, real payloads from
 * @octokit/webhooks-examples patched to the emulator's repo and signed, GitHub's API served by
 * the REST emulator through GHE_HOST/GHE_PROTOCOL=http.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  type AppHarness,
  BASE_FILES,
  INFRA_CHANGE,
  llmJson,
  MARKER,
  MODEL_CHANGE,
  OWNER,
  PROMPT_CHANGE,
  REPO,
  startAppHarness,
} from "./support/app-harness.ts";

let h: AppHarness;

beforeEach(async () => {
  h = await startAppHarness();
  h.user("maintainer", "write");
  h.user("dev", "write");
  h.user("reader", "read");
});

afterEach(async () => {
  await h.close();
});

const OVERRIDE = "modelgate:allow-mixed";

function writes(from = 0): string[] {
  return h.emu.requests
    .slice(from)
    .filter((r) => r.method !== "GET")
    .map((r) => `${r.method} ${r.path}`)
    .filter((r) => !r.includes("/access_tokens"));
}

async function open(branch: string, files: Record<string, string | null>, user = "dev") {
  const number = h.openPR(branch, files, { user });
  const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
  expect(delivery.status).toBe(200);
  return number;
}

function onlyCheck(number: number) {
  const checks = h.checks(h.headSha(number));
  expect(checks).toHaveLength(1);
  const [check] = checks;
  if (!check) throw new Error("no check");
  return check;
}

describe("verdicts", () => {
  test("a model-only PR passes, with the key in the table and no comment", async () => {
    const number = await open("model-only", MODEL_CHANGE);
    const check = onlyCheck(number);
    expect(check).toMatchObject({ status: "completed", conclusion: "success", externalId: `pr:${number}` });
    expect(check.output.title).toBe("One kind of change: model");
    expect(check.output.summary).toContain("| model | `config/llm.json` | `llm.routes.general_qna` |");
    expect(h.comments(number)).toHaveLength(0);
  });

  test("a model ID changed in code passes as a model change, named with its line (zero config)", async () => {
    const number = await open("model-in-code", { "src/llm.py": 'import os\n\nMODEL = "gpt-5.5"\n' });
    const check = onlyCheck(number);
    expect(check.output.title).toBe("One kind of change: model");
    expect(check.output.summary).toContain("| model | `src/llm.py` | `+gpt-5.5 (line 3)` |");
  });

  test("a mixed PR fails with a table per category, a suggested split and one sticky comment", async () => {
    const number = await open("mixed", { ...MODEL_CHANGE, ...PROMPT_CHANGE, ...INFRA_CHANGE });
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("failure");
    expect(check.output.title).toBe("Mixed change: infra + model + prompt");
    const summary = check.output.summary ?? "";
    expect(summary).toContain("### Suggested split");
    expect(summary).toMatch(/1\. \*\*infra\*\* first: `Dockerfile`/);
    expect(summary).toMatch(/3\. \*\*model\*\* last: `config\/llm\.json`/);
    expect(summary).toContain("| prompt | `prompts/qna.md` | (whole file) |");
    const comments = h.comments(number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.user).toBe("modelgate[bot]");
    expect(comments[0]?.body).toContain("this PR mixes infra, model and prompt changes");
    expect(comments[0]?.body).toContain(OVERRIDE);
  });

  test("one file carrying two categories is split by key", async () => {
    const both = llmJson((c) => {
      (c.llm as { routes: Record<string, string>; timeout_ms: number }).routes.general_qna = "gpt-5.5";
      (c.llm as { timeout_ms: number }).timeout_ms = 300000;
    });
    const number = await open("one-file", { "config/llm.json": both });
    const summary = onlyCheck(number).output.summary ?? "";
    expect(summary).toContain("**infra** first: `config/llm.json` (only `llm.timeout_ms`)");
    expect(summary).toContain("**model** last: `config/llm.json` (only `llm.routes.general_qna`)");
  });

  test("a push that unmixes the PR edits the comment and passes the new head", async () => {
    const number = await open("unmix", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    expect(onlyCheck(number).conclusion).toBe("failure");
    const [before] = h.comments(number);
    h.advance(60);
    h.push("unmix", { "prompts/qna.md": BASE_FILES["prompts/qna.md"] ?? "" });
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("synchronize", number));
    expect(delivery.status).toBe(200);
    expect(onlyCheck(number).conclusion).toBe("success");
    const comments = h.comments(number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.id).toBe(before?.id);
    expect(comments[0]?.body).toContain("no longer mixed");
  });

  test("a PR with nothing LLM-relevant is neutral", async () => {
    const number = await open("docs", {
      "README.md": "# support bot\n\nMore docs.\n",
      "src/server.js": "//\n",
    });
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("neutral");
    expect(check.output.title).toBe("No model, prompt or infra change");
    expect(h.comments(number)).toHaveLength(0);
  });

  test("an invalid config on the base branch fails the check with the validation error", async () => {
    h.push("main", { ".github/modelgate.yml": "version: 1\ngates:\n  max_error_rate: '2%'\n" });
    const number = await open("after-bad-config", MODEL_CHANGE);
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("failure");
    expect(check.output.title).toBe("Invalid modelgate config on the base branch");
    expect(check.output.summary).toContain(".github/modelgate.yml:3 gates.max_error_rate: expected number");
  });

  test("a PR that loosens the policy in its head is still judged by the base's", async () => {
    const loosened = "version: 1\nchanges:\n  prompt: { files: [] }\n  infra: { files: [], keys: [] }\n";
    const number = await open("loosen", {
      ...MODEL_CHANGE,
      ...PROMPT_CHANGE,
      ".github/modelgate.yml": loosened,
    });
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("failure");
    expect(check.output.title).toBe("Mixed change: model + prompt");
  });

  test("the base's policy applies, with _extends read from another repository", async () => {
    h.emu.addRepo({ owner: OWNER, repo: "policies" });
    h.emu.commit(OWNER, "policies", "main", {
      ".github/modelgate.yml": "version: 1\nchanges:\n  prompt: { files: ['docs/prompts/**'] }\n",
    });
    h.push("main", {
      ".github/modelgate.yml": "_extends: policies\nattribution:\n  override_label: ok-to-mix\n",
    });
    const number = await open("extends", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    // prompts/** is no longer a prompt path under the org policy: only the model change counts.
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("success");
    expect(check.output.summary).toContain("acme/policies:.github/modelgate.yml");
  });

  test("an _extends error names the file and the line", async () => {
    h.push("main", { ".github/modelgate.yml": "# org policy\n_extends: nowhere\n" });
    const number = await open("extends-missing", MODEL_CHANGE);
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toContain("acme/nowhere:.github/modelgate.yml was not found");
  });

  test("a 3,001-file PR fails closed and says the list was truncated", async () => {
    const files: Record<string, string> = { ...MODEL_CHANGE };
    for (let i = 0; i < 3000; i++) files[`assets/f${i}.txt`] = `${i}\n`;
    const number = await open("huge", files);
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("failure");
    expect(check.output.title).toBe("File list truncated");
    expect(check.output.summary).toContain("truncated");
    expect((check.output.summary ?? "").length).toBeLessThanOrEqual(65_535);
  });

  test("file paths are escaped: no HTML, no live mentions, no forged marker", async () => {
    const evil = "prompts/<img src=x onerror=alert(1)> @acme/owners <!-- modelgate:attribution -->.md";
    const number = await open("evil", { ...MODEL_CHANGE, [evil]: "hi\n" });
    const [comment] = h.comments(number);
    const body = comment?.body ?? "";
    expect(body).not.toContain("<img");
    expect(body).not.toMatch(/@acme/);
    expect(body.split(MARKER)).toHaveLength(2);
    expect(onlyCheck(number).output.summary).not.toContain("<img");
  });
});

describe("override label", () => {
  test("applied by a maintainer: the check passes, titled overridden and by whom", async () => {
    const number = await open("override", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    h.advance(30);
    await h.label(number, OVERRIDE, "maintainer");
    const event = h.pullRequestEvent("labeled", number, { label: { name: OVERRIDE } });
    expect((await h.deliver("pull_request", event)).status).toBe(200);
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("success");
    expect(check.output.title).toBe("Mixed change: model + prompt, overridden by maintainer");
    expect(check.output.summary).toContain(`**Overridden** by **@\u200dmaintainer** at ${h.now()}`);
    expect(check.output.summary).toContain("accepts the model and prompt changes");
    const comments = h.comments(number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("passes because of the override");
  });

  test("applied by the PR's author: it does not count", async () => {
    const number = await open("self-override", { ...MODEL_CHANGE, ...PROMPT_CHANGE }, "dev");
    await h.label(number, OVERRIDE, "dev");
    await h.deliver("pull_request", h.pullRequestEvent("labeled", number, { label: { name: OVERRIDE } }));
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary).toContain("the PR's author");
  });

  test("applied by the author when the base config allows it: it counts", async () => {
    h.push("main", { ".github/modelgate.yml": "attribution:\n  allow_author_override: true\n" });
    const number = await open("self-allowed", { ...MODEL_CHANGE, ...PROMPT_CHANGE }, "dev");
    await h.label(number, OVERRIDE, "dev");
    await h.deliver("pull_request", h.pullRequestEvent("labeled", number, { label: { name: OVERRIDE } }));
    expect(onlyCheck(number).conclusion).toBe("success");
  });

  test("a push after the override re-evaluates; the label must be applied again", async () => {
    const number = await open("push-after", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    h.advance(10);
    await h.label(number, OVERRIDE, "maintainer");
    await h.deliver("pull_request", h.pullRequestEvent("labeled", number, { label: { name: OVERRIDE } }));
    expect(onlyCheck(number).conclusion).toBe("success");

    h.advance(60);
    h.push("push-after", { "prompts/qna.md": "Another prompt.\n" });
    await h.deliver("pull_request", h.pullRequestEvent("synchronize", number));
    const after = onlyCheck(number);
    expect(after.conclusion).toBe("failure");
    expect(after.output.summary).toContain("was removed");
    const labels = h.emu.getPullRequest(OWNER, REPO, number).labels.map((l) => l.name);
    expect(labels).not.toContain(OVERRIDE);
    expect(h.comments(number)).toHaveLength(1);

    // The App's own removal comes back as `unlabeled`: nothing more to do.
    const before = h.emu.requests.length;
    await h.deliver(
      "pull_request",
      h.pullRequestEvent("unlabeled", number, {
        label: { name: OVERRIDE },
        sender: { login: "modelgate[bot]", id: 1, type: "Bot" },
      }),
    );
    expect(writes(before)).toEqual([]);

    h.advance(60);
    await h.label(number, OVERRIDE, "maintainer");
    await h.deliver("pull_request", h.pullRequestEvent("labeled", number, { label: { name: OVERRIDE } }));
    expect(onlyCheck(number).conclusion).toBe("success");
  });

  test("a label applied after the push (before its delivery) survives the synchronize", async () => {
    const number = await open("label-after-push", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    h.advance(60);
    h.push("label-after-push", { "prompts/qna.md": "Newer prompt.\n" });
    const synchronize = h.pullRequestEvent("synchronize", number);
    h.advance(20);
    await h.label(number, OVERRIDE, "maintainer");
    await h.deliver("pull_request", synchronize);
    expect(onlyCheck(number).conclusion).toBe("success");
  });

  test("another label does not run anything", async () => {
    const number = await open("other-label", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    const before = h.emu.requests.length;
    await h.label(number, "documentation", "maintainer");
    await h.deliver(
      "pull_request",
      h.pullRequestEvent("labeled", number, { label: { name: "documentation" } }),
    );
    expect(writes(before).filter((w) => !w.includes("/labels"))).toEqual([]);
  });
});

describe("events", () => {
  test("check_run.rerequested re-runs the same check run", async () => {
    const number = await open("rerun", MODEL_CHANGE);
    const [run] = h.checks(h.headSha(number));
    if (!run) throw new Error("no check");
    const before = h.emu.requests.length;
    const delivery = await h.deliver("check_run", h.checkRunEvent("rerequested", run));
    expect(delivery.status).toBe(200);
    expect(writes(before)).toEqual([`PATCH /repos/${OWNER}/${REPO}/check-runs/${run.id}`]);
    expect(onlyCheck(number).conclusion).toBe("success");
  });

  test("edited runs only when the base changed", async () => {
    const number = h.openPR("edit", MODEL_CHANGE);
    await h.deliver(
      "pull_request",
      h.pullRequestEvent("edited", number, { changes: { title: { from: "x" } } }),
    );
    expect(h.checks()).toHaveLength(0);
    await h.deliver(
      "pull_request",
      h.pullRequestEvent("edited", number, { changes: { base: { ref: { from: "dev" } } } }),
    );
    expect(onlyCheck(number).conclusion).toBe("success");
  });

  test("reopened and ready_for_review re-evaluate", async () => {
    const number = h.openPR("reopen", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    await h.deliver("pull_request", h.pullRequestEvent("reopened", number));
    await h.deliver("pull_request", h.pullRequestEvent("ready_for_review", number));
    expect(onlyCheck(number).conclusion).toBe("failure");
    expect(h.comments(number)).toHaveLength(1);
  });
});

describe("reliability", () => {
  test("a missing or wrong signature gets a 4xx and no API call", async () => {
    const number = h.openPR("unsigned", MODEL_CHANGE);
    const payload = h.pullRequestEvent("opened", number);
    const before = h.emu.requests.length;
    const missing = await h.deliver("pull_request", payload, { signature: null });
    const wrong = await h.deliver("pull_request", payload, { signature: `sha256=${"0".repeat(64)}` });
    const otherSecret = await h.deliver("pull_request", payload, {
      signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    });
    for (const delivery of [missing, wrong, otherSecret]) {
      expect(delivery.status).toBeGreaterThanOrEqual(400);
      expect(delivery.status).toBeLessThan(500);
    }
    expect(h.emu.requests.length).toBe(before);
    expect(h.checks()).toHaveLength(0);
  });

  test("a redelivery (same X-GitHub-Delivery) adds no check and no comment, and writes nothing", async () => {
    const number = h.openPR("redeliver", { ...MODEL_CHANGE, ...INFRA_CHANGE });
    const payload = h.pullRequestEvent("opened", number);
    const first = await h.deliver("pull_request", payload);
    const before = h.emu.requests.length;
    const again = await h.deliver("pull_request", payload, { id: first.id });
    expect(again.status).toBe(200);
    expect(h.checks()).toHaveLength(1);
    expect(h.comments(number)).toHaveLength(1);
    expect(writes(before)).toEqual([]);
  });

  test("a 502 from GitHub is retried: still exactly one check", async () => {
    const number = h.openPR("flaky", MODEL_CHANGE);
    h.emu.failNext({ method: "POST", pathIncludes: "/check-runs" }, 502);
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(delivery.status).toBe(200);
    expect(onlyCheck(number).conclusion).toBe("success");
    expect(
      h.emu.requests
        .filter((r) => r.method === "POST" && r.path.endsWith("/check-runs"))
        .map((r) => r.status),
    ).toEqual([502, 201]);
  });

  test("a handler error leaves a failing check that explains, and the server keeps serving", async () => {
    const number = h.openPR("broken", MODEL_CHANGE);
    // One call and Octokit's three retries.
    h.emu.failNext({ method: "GET", pathIncludes: "/files" }, 500, 4);
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(delivery.status).toBe(200);
    const check = onlyCheck(number);
    expect(check.conclusion).toBe("failure");
    expect(check.output.title).toBe("modelgate could not judge this PR");
    expect(check.output.summary).toContain("Re-run the check");

    const [run] = h.checks(h.headSha(number));
    if (!run) throw new Error("no check");
    await h.deliver("check_run", h.checkRunEvent("rerequested", run));
    expect(onlyCheck(number).conclusion).toBe("success");
  });

  test("when even the error check cannot be written, the delivery fails with a 5xx (GitHub can redeliver)", async () => {
    const number = h.openPR("down", MODEL_CHANGE);
    h.emu.failNext({ pathIncludes: `/repos/${OWNER}/${REPO}` }, 503, 100);
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(delivery.status).toBeGreaterThanOrEqual(500);
    const health = await fetch(`${h.server.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe("with Octokit throttling on (production settings)", () => {
  test("a secondary rate limit is waited out (Retry-After) instead of failing the delivery", async () => {
    const throttled = await startAppHarness({
      client: { throttle: true, retries: 3, retryAfterBaseValue: 20 },
    });
    try {
      const number = throttled.openPR("limited", MODEL_CHANGE);
      throttled.emu.failNext({ method: "POST", pathIncludes: "/check-runs" }, 403, 1, { "retry-after": "1" });
      const delivery = await throttled.deliver("pull_request", throttled.pullRequestEvent("opened", number));
      expect(delivery.status).toBe(200);
      const posts = throttled.emu.requests.filter(
        (r) => r.method === "POST" && r.path.endsWith("/check-runs"),
      );
      expect(posts.map((r) => r.status)).toEqual([403, 201]);
      expect(throttled.checks(throttled.headSha(number))).toHaveLength(1);
    } finally {
      await throttled.close();
    }
  });
});
