import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startAppHarness } from "./support/app-harness.ts";
import { ROOT } from "./support/cli.ts";
import { freePort, waitForOutput } from "./support/net.ts";

/** `npm start` on a fresh install: the bundled App with no credentials starts Probot's setup flow. */

describe("dist/app.js without credentials", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGTERM");
  });

  const start = (port: number, env: NodeJS.ProcessEnv) => {
    const { APP_ID: _a, PRIVATE_KEY: _k, PRIVATE_KEY_PATH: _p, WEBHOOK_SECRET: _s, ...rest } = process.env;
    child = spawn(process.execPath, [join(ROOT, "dist/app.js")], {
      cwd: ROOT,
      env: { ...rest, PORT: String(port), NO_SMEE_SETUP: "true", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return child;
  };

  it("serves the manifest registration page on loopback", async () => {
    const port = await freePort();
    const output = await waitForOutput(start(port, {}), /Listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/setup mode/);
    const response = await fetch(`http://127.0.0.1:${port}/probot`);
    expect(response.status).toBe(200);
    const page = await response.text();
    // The manifest comes from app.yml; the webhook goes to the server's root, which the App
    // also accepts as its webhook path.
    const manifest = JSON.parse(
      (/id="manifest" value='([^']*)'/.exec(page)?.[1] ?? "{}").replaceAll("&quot;", '"'),
    ) as { default_permissions?: Record<string, string>; hook_attributes?: { url?: string } };
    expect(manifest.default_permissions?.checks).toBe("write");
    expect(manifest.hook_attributes?.url).toBe(`http://127.0.0.1:${port}/`);
  });

  it("refuses to start in production and says which variables are missing", async () => {
    const port = await freePort();
    const output = await waitForOutput(start(port, { NODE_ENV: "production" }), /cannot start the app/);
    expect(output).toMatch(/APP_ID and PRIVATE_KEY/);
    expect(output).not.toMatch(/\n\s+at /);
  });
});

describe("the webhook URL the manifest registers", () => {
  it("accepts signed deliveries at the server's root, and checks their signature there too", async () => {
    const h = await startAppHarness();
    try {
      const number = h.openPR("model-change", { "config/llm.json": null });
      const event = h.pullRequestEvent("opened", number);
      expect((await h.deliver("pull_request", event, { path: "/", signature: "sha256=00" })).status).toBe(
        400,
      );
      expect(h.checks()).toHaveLength(0);
      expect((await h.deliver("pull_request", event, { path: "/" })).status).toBe(200);
      expect(h.checks().map((check) => check.name)).toContain("modelgate/attribution");
    } finally {
      await h.close();
    }
  });
});
