/** The policy loader of src/github (base ref, org fallback, `_extends`) against the REST emulator. */
import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, expect, test } from "vitest";
import { UserError } from "../src/core/errors.ts";
import { loadPolicy } from "../src/github/policy.ts";
import { type GitHubEmulator, startGitHubEmulator } from "./support/github-emulator.ts";

let emu: GitHubEmulator;
let gh: Octokit;
let base: string;

beforeEach(async () => {
  emu = await startGitHubEmulator();
  emu.addRepo({ owner: "acme", repo: "app" });
  base = emu.commit("acme", "app", "main", { "README.md": "hi\n" });
  gh = new Octokit({ auth: "ghs_test", baseUrl: emu.url });
});

afterEach(async () => {
  await emu.close();
});

const load = (ref = base) => loadPolicy(gh, { owner: "acme", repo: "app", ref });

test("no file anywhere: the defaults", async () => {
  const policy = await load();
  expect(policy.sources).toEqual([]);
  expect(policy.config.attribution.override_label).toBe("modelgate:allow-mixed");
});

test("the file is read at the given ref, not at the branch tip", async () => {
  const at = emu.commit("acme", "app", "main", {
    ".github/modelgate.yml": "attribution: { override_label: first }\n",
  });
  emu.commit("acme", "app", "main", { ".github/modelgate.yml": "attribution: { override_label: second }\n" });
  expect((await load(at)).config.attribution.override_label).toBe("first");
});

test("a repo without the file falls back to the owner's .github repository", async () => {
  emu.addRepo({ owner: "acme", repo: ".github" });
  emu.commit("acme", ".github", "main", {
    ".github/modelgate.yml": "attribution: { override_label: org-wide }\n",
  });
  const policy = await load();
  expect(policy.config.attribution.override_label).toBe("org-wide");
  expect(policy.sources).toEqual([{ owner: "acme", repo: ".github", path: ".github/modelgate.yml" }]);
});

test("_extends: mappings merge, lists and values of the more specific file win", async () => {
  emu.addRepo({ owner: "org", repo: "policies" });
  emu.commit("org", "policies", "main", {
    "shared/modelgate.yml": [
      "rollout: { phases: [5, 25, 100], label_prefix: 'ship:' }",
      "changes:",
      "  prompt: { files: ['templates/**'] }",
      "  infra: { files: ['ops/**'] }",
      "",
    ].join("\n"),
  });
  const at = emu.commit("acme", "app", "main", {
    ".github/modelgate.yml": "_extends: org/policies:shared/modelgate.yml\nrollout:\n  phases: [50, 100]\n",
  });
  const { config, sources } = await load(at);
  expect(config.rollout.phases).toEqual([50, 100]);
  expect(config.rollout.label_prefix).toBe("ship:");
  expect(config.changes.prompt.files).toEqual(["templates/**"]);
  expect(config.changes.infra.files).toEqual(["ops/**"]);
  expect(sources.map((s) => `${s.owner}/${s.repo}:${s.path}`)).toEqual([
    "acme/app:.github/modelgate.yml",
    "org/policies:shared/modelgate.yml",
  ]);
});

test("an error keeps the line it is on (the _extends line is blanked, not removed)", async () => {
  emu.addRepo({ owner: "acme", repo: "base" });
  emu.commit("acme", "base", "main", { ".github/modelgate.yml": "version: 1\n" });
  const at = emu.commit("acme", "app", "main", {
    ".github/modelgate.yml": "# policy\n_extends: base\ngates:\n  max_error_rate: lots\n",
  });
  await expect(load(at)).rejects.toThrow(/\.github\/modelgate\.yml:4 gates\.max_error_rate: expected number/);
});

test("an error in an extended file names that file", async () => {
  emu.addRepo({ owner: "acme", repo: "base" });
  emu.commit("acme", "base", "main", { ".github/modelgate.yml": "gatez: {}\n" });
  const at = emu.commit("acme", "app", "main", {
    ".github/modelgate.yml": "{ _extends: base, version: 1 }\n",
  });
  await expect(load(at)).rejects.toThrow(
    /acme\/base:\.github\/modelgate\.yml:1 gatez: unknown key; did you mean "gates"\?/,
  );
});

test("an _extends loop or a bad value is a user error", async () => {
  emu.addRepo({ owner: "acme", repo: "a" });
  emu.commit("acme", "a", "main", { ".github/modelgate.yml": "_extends: app\n" });
  const loop = emu.commit("acme", "app", "main", { ".github/modelgate.yml": "_extends: a\n" });
  await expect(load(loop)).rejects.toThrow(/loops back/);
  const bad = emu.commit("acme", "app", "main", {
    ".github/modelgate.yml": "_extends: 'not a/valid/value'\n",
  });
  const error = await load(bad).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect(String(error)).toMatch(/_extends: expected "repo", "owner\/repo" or "owner\/repo:path.yml"/);
});
