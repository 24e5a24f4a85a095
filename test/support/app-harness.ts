/**
 * The Probot app over real HTTP for tests and the benchmark: the REST emulator on loopback,
 * the app's server on loopback pointed at it through GHE_HOST/GHE_PROTOCOL, and webhook
 * deliveries built from `@octokit/webhooks-examples` payloads, patched to the emulator's repo
 * and signed with X-Hub-Signature-256.
 */
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type RunningServer, startServer } from "../../src/app/start-server.ts";
import type { ClientPolicy } from "../../src/github/octokit-options.ts";
import {
  type CheckRunRecord,
  type CommentRecord,
  type GitHubEmulator,
  type Permission,
  startGitHubEmulator,
} from "./github-emulator.ts";

export const OWNER = "acme";
export const REPO = "support-bot";
export const CHECK = "modelgate/attribution";
export const MARKER = "<!-- modelgate:attribution -->";
export const T0 = Date.parse("2026-11-02T09:00:00Z");

/** The example app's files on the default branch. */
export const BASE_FILES: Record<string, string> = {
  "README.md": "# support bot\n",
  Dockerfile: 'FROM node:24-slim\nCMD ["node", "server.js"]\n',
  "config/llm.json": `${JSON.stringify(
    {
      llm: {
        default_model: "gpt-5.4",
        routes: { agentic_coding: "gpt-5.5", general_qna: "gpt-5.4" },
        max_output_tokens: 4096,
        timeout_ms: 120000,
        retry_limit: 2,
      },
      models: { default: "gpt-5.4", candidate: "gpt-5.5", rollback: "gpt-5.4" },
      rollout: { candidate_percent: 10 },
    },
    null,
    2,
  )}\n`,
  "prompts/qna.md": "You answer questions about {{product}}.\n",
  "src/server.js": "console.log('hi');\n",
};

/** `config/llm.json` of the base with some keys changed. */
export function llmJson(edit: (config: Record<string, Record<string, unknown>>) => void): string {
  const config = JSON.parse(BASE_FILES["config/llm.json"] ?? "{}") as Record<string, Record<string, unknown>>;
  edit(config);
  return `${JSON.stringify(config, null, 2)}\n`;
}

export const MODEL_CHANGE = {
  "config/llm.json": llmJson((c) => {
    (c.llm as { routes: Record<string, string> }).routes.general_qna = "gpt-5.5";
  }),
};
export const PROMPT_CHANGE = { "prompts/qna.md": "You answer questions about {{product}}. Be brief.\n" };
export const INFRA_CHANGE = { Dockerfile: 'FROM node:24-slim\nENV X=1\nCMD ["node", "server.js"]\n' };

type Examples = Array<{ name: string; examples: Array<Record<string, unknown> & { action?: string }> }>;
let examples: Examples | undefined;

/** A real payload of `@octokit/webhooks-examples` (deep copy). */
export function example(name: string, action: string): Record<string, unknown> {
  if (!examples) {
    const require = createRequire(import.meta.url);
    const path = require.resolve("@octokit/webhooks-examples/api.github.com/index.json");
    examples = JSON.parse(readFileSync(path, "utf8")) as Examples;
  }
  const found = examples.find((e) => e.name === name)?.examples.find((e) => e.action === action);
  if (!found) throw new Error(`no ${name}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface Delivery {
  status: number;
  body: string;
  id: string;
  /** ms from sending the request to its response. */
  ms: number;
}

export interface DeliverOptions {
  id?: string;
  /** Override the signature header; `null` leaves it out. */
  signature?: string | null;
  /** Where to POST; default the webhook path. */
  path?: string;
}

export interface AppHarness {
  emu: GitHubEmulator;
  server: RunningServer;
  secret: string;
  /** The App's key, for more App processes against the same emulator. */
  privateKey: string;
  /** Moves the emulator's clock (label and comment times) forward. */
  advance(seconds: number): void;
  now(): string;
  deliver(name: string, payload: unknown, options?: DeliverOptions): Promise<Delivery>;
  /** Commits `files` to `branch` and opens a PR from it against main; returns its number. */
  openPR(
    branch: string,
    files: Record<string, string | null>,
    options?: { user?: string; number?: number },
  ): number;
  push(branch: string, files: Record<string, string | null>): string;
  pullRequestEvent(action: string, number: number, extra?: Record<string, unknown>): Record<string, unknown>;
  checkRunEvent(action: string, run: CheckRunRecord): Record<string, unknown>;
  /** A user with a token and a permission on the repo; returns the token. */
  user(login: string, permission: Permission): string;
  /** Applies a label as `login` through the REST API (so the event log records who). */
  label(number: number, name: string, login: string): Promise<void>;
  checks(headSha?: string): CheckRunRecord[];
  comments(number: number): CommentRecord[];
  headSha(number: number): string;
  close(): Promise<void>;
}

export async function startAppHarness(
  options: {
    client?: ClientPolicy;
    logLevel?: NodeJS.ProcessEnv["LOG_LEVEL"];
    /** Per-request timeout of the App's Octokit (default: production's). */
    requestTimeoutMs?: number;
    /** More of the App's environment (e.g. MODELGATE_ALERTMANAGER_TOKEN, PROMETHEUS_URL). */
    env?: Record<string, string>;
  } = {},
): Promise<AppHarness> {
  const emu = await startGitHubEmulator();
  let clock = T0;
  emu.state.clock = () => new Date(clock);
  emu.addRepo({ owner: OWNER, repo: REPO });
  emu.commit(OWNER, REPO, "main", BASE_FILES, "Initial commit");
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const secret = `secret-${randomUUID()}`;
  const server = await startServer({
    env: {
      APP_ID: "1",
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: secret,
      GHE_HOST: emu.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: options.logLevel ?? "fatal",
      NODE_ENV: "test",
      ...options.env,
    },
    client: options.client ?? { throttle: false, retries: 3, retryAfterBaseValue: 20 },
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    port: 0,
    host: "127.0.0.1",
  });
  const tokens = new Map<string, string>();

  const harness: AppHarness = {
    emu,
    server,
    secret,
    privateKey,
    advance(seconds) {
      clock += seconds * 1000;
    },
    now: () => new Date(clock).toISOString().replace(/\.\d{3}Z$/, "Z"),
    async deliver(name, payload, deliverOptions = {}) {
      const body = JSON.stringify(payload);
      const id = deliverOptions.id ?? randomUUID();
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-github-event": name,
        "x-github-delivery": id,
        "user-agent": "GitHub-Hookshot/test",
      };
      const signature =
        deliverOptions.signature === undefined ? sign(secret, body) : deliverOptions.signature;
      if (signature !== null) headers["x-hub-signature-256"] = signature;
      const started = performance.now();
      const response = await fetch(`${server.url}${deliverOptions.path ?? "/api/github/webhooks"}`, {
        method: "POST",
        headers,
        body,
      });
      return { status: response.status, body: await response.text(), id, ms: performance.now() - started };
    },
    openPR(branch, files, prOptions = {}) {
      emu.commit(OWNER, REPO, branch, files, `Change on ${branch}`);
      const pr = emu.openPullRequest(OWNER, REPO, {
        base: "main",
        head: branch,
        user: prOptions.user ?? "dev",
        ...(prOptions.number === undefined ? {} : { number: prOptions.number }),
      });
      return pr.number;
    },
    push(branch, files) {
      return emu.commit(OWNER, REPO, branch, files, `Push to ${branch}`);
    },
    pullRequestEvent(action, number, extra = {}) {
      const payload = example("pull_request", action === "edited" ? "opened" : action);
      const pr = emu.getPullRequest(OWNER, REPO, number);
      payload.action = action;
      payload.number = number;
      payload.pull_request = { ...pr, ...(action === "synchronize" ? { updated_at: harness.now() } : {}) };
      payload.repository = emu.getRepository(OWNER, REPO);
      payload.installation = {
        id: emu.state.installationId,
        node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
      };
      payload.sender = { login: "dev", id: 4242, type: "User" };
      delete payload.organization;
      if (action === "synchronize") payload.after = pr.head.sha;
      return { ...payload, ...extra };
    },
    checkRunEvent(action, run) {
      const payload = example("check_run", action);
      const checkRun = payload.check_run as Record<string, unknown>;
      checkRun.id = run.id;
      checkRun.name = run.name;
      checkRun.head_sha = run.headSha;
      checkRun.external_id = run.externalId;
      checkRun.pull_requests = [];
      payload.repository = emu.getRepository(OWNER, REPO);
      payload.installation = {
        id: emu.state.installationId,
        node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
      };
      payload.sender = { login: "maintainer", id: 4243, type: "User" };
      delete payload.organization;
      return payload;
    },
    user(login, permission) {
      const token = `token-${login}`;
      emu.state.tokens[token] = { login, type: "User" };
      emu.setPermission(OWNER, REPO, login, permission);
      tokens.set(login, token);
      return token;
    },
    async label(number, name, login) {
      const token = tokens.get(login) ?? harness.user(login, "write");
      const response = await fetch(`${emu.url}/repos/${OWNER}/${REPO}/issues/${number}/labels`, {
        method: "POST",
        headers: { authorization: `token ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ labels: [name] }),
      });
      if (!response.ok) throw new Error(`labeling failed: ${response.status} ${await response.text()}`);
    },
    checks(headSha) {
      return [...emu.state.checkRuns.values()].filter(
        (run) => run.name === CHECK && (headSha === undefined || run.headSha === headSha),
      );
    },
    comments(number) {
      return [...emu.state.comments.values()].filter(
        (c) => c.issueNumber === number && c.body.includes(MARKER),
      );
    },
    headSha(number) {
      return emu.getPullRequest(OWNER, REPO, number).head.sha;
    },
    async close() {
      await server.close();
      await emu.close();
    },
  };
  return harness;
}
