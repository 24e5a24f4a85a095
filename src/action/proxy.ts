import http from "node:http";

/** `http.setGlobalProxyFromEnv` (Node ≥ 24.14); absent from older Nodes and their types. */
type SetGlobalProxyFromEnv = (proxyEnv: NodeJS.ProcessEnv) => () => void;

/** What this Node offers (tests pass an older Node's). */
export interface NodeProxySupport {
  setGlobalProxyFromEnv: SetGlobalProxyFromEnv | undefined;
  version: string;
}

function thisNode(): NodeProxySupport {
  const { setGlobalProxyFromEnv } = http as { setGlobalProxyFromEnv?: SetGlobalProxyFromEnv };
  return { setGlobalProxyFromEnv: setGlobalProxyFromEnv?.bind(http), version: process.version };
}

const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

/**
 * Sends the Action's requests (GitHub API and provider alike) through the runner's proxy,
 * HTTPS_PROXY / HTTP_PROXY with NO_PROXY, as the Actions toolkit does. The bundle leaves out
 * undici (scripts/shims/undici.ts), which the toolkit used for this, so Node's own fetch
 * carries the proxy. Loopback never goes through it, as in `@actions/http-client`.
 *
 * Returns why the run must stop when a proxy is set but this Node cannot use it: without it
 * the requests would try to go around the proxy and fail in ways that name no cause.
 */
export function useEnvProxy(env: NodeJS.ProcessEnv, node: NodeProxySupport = thisNode()): string | undefined {
  const { setGlobalProxyFromEnv, version } = node;
  const named = PROXY_VARIABLES.find((name) => env[name]);
  if (named === undefined) return undefined;
  // Node already reads the variables at start-up (`--use-env-proxy` or NODE_USE_ENV_PROXY=1).
  if (env.NODE_USE_ENV_PROXY === "1" || process.execArgv.includes("--use-env-proxy")) return undefined;
  if (setGlobalProxyFromEnv === undefined)
    return `${named} is set, but Node ${version} cannot send requests through a proxy without NODE_USE_ENV_PROXY=1; the Action needs Node 24.14 or newer (the runner's node24) or that variable.`;
  // Lower case first, as @actions/http-client reads it; both spellings carry the result.
  const noProxy = [env.no_proxy || env.NO_PROXY, "localhost", "127.0.0.1", "::1"].filter(Boolean).join(",");
  setGlobalProxyFromEnv({ ...env, NO_PROXY: noProxy, no_proxy: noProxy });
  return undefined;
}
