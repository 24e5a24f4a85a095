/** GitHub App authentication (JWT accepted unverified) and the rate limit endpoint. */
import { randomBytes } from "node:crypto";
import { repoFor } from "../access.ts";
import { type Ctx, notFound, pathNumber, type Reply, type Route } from "../http.ts";
import { appJson, installationJson } from "../shapes.ts";
import { appIdentity, rateLimit } from "../state.ts";

const TOKEN_LIFETIME_MS = 60 * 60 * 1000;

function getApp(ctx: Ctx): Reply {
  const app = ctx.state.apps.get(ctx.state.appSlug);
  if (!app) throw notFound();
  return { body: appJson(ctx, app) };
}

function installationOwner(ctx: Ctx): string {
  const first = ctx.state.repos.values().next().value;
  return first?.owner ?? ctx.state.appSlug;
}

function listInstallations(ctx: Ctx): Reply {
  return { body: [installationJson(ctx, installationOwner(ctx))] };
}

function getInstallation(ctx: Ctx): Reply {
  if (pathNumber(ctx, "id") !== ctx.state.installationId) throw notFound();
  return { body: installationJson(ctx, installationOwner(ctx)) };
}

function repoInstallation(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  return { body: installationJson(ctx, repo.owner) };
}

function createAccessToken(ctx: Ctx): Reply {
  if (pathNumber(ctx, "id") !== ctx.state.installationId) throw notFound();
  const token = `ghs_${randomBytes(18).toString("hex")}`;
  ctx.state.tokens[token] = appIdentity(ctx.state);
  ctx.state.issuedTokens.push(token);
  const expires = new Date(ctx.state.clock().getTime() + TOKEN_LIFETIME_MS);
  return {
    status: 201,
    body: {
      token,
      expires_at: expires.toISOString().replace(/\.\d{3}Z$/, "Z"),
      permissions: {
        checks: "write",
        contents: "write",
        issues: "write",
        metadata: "read",
        pull_requests: "write",
      },
      repository_selection: "all",
    },
  };
}

function getRateLimit(ctx: Ctx): Reply {
  const core = rateLimit(ctx.state);
  const fresh = { limit: 30, used: 0, remaining: 30, reset: core.reset };
  return { body: { resources: { core, search: fresh, graphql: { ...core } }, rate: core } };
}

export const appRoutes: Route[] = [
  { method: "GET", pattern: "/app", handler: getApp, auth: "jwt" },
  { method: "GET", pattern: "/app/installations", handler: listInstallations, auth: "jwt" },
  { method: "GET", pattern: "/app/installations/:id", handler: getInstallation, auth: "jwt" },
  {
    method: "POST",
    pattern: "/app/installations/:id/access_tokens",
    handler: createAccessToken,
    auth: "jwt",
  },
  { method: "GET", pattern: "/repos/:owner/:repo/installation", handler: repoInstallation, auth: "jwt" },
  { method: "GET", pattern: "/rate_limit", handler: getRateLimit, auth: "any" },
];
