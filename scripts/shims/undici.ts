/**
 * Bundle-time stand-in for `undici` in dist/index.js (scripts/build.ts aliases it here).
 * `@actions/github` and `@actions/http-client` import undici only to send Octokit's requests
 * through a proxy dispatcher; bundling it costs 400 KiB of the Action's load time on every
 * run. Node 20+ has the same fetch built in, and the Action's entry routes that fetch through
 * the runner's HTTPS_PROXY / HTTP_PROXY / NO_PROXY (`useEnvProxy`), so the dispatcher the
 * toolkit builds is not needed: it is a marker here, and `fetch` drops it.
 */
export class ProxyAgent {
  readonly options: unknown;
  constructor(options: unknown) {
    this.options = options;
  }
}

export function fetch(input: string | URL | Request, init?: RequestInit & { dispatcher?: unknown }) {
  if (init === undefined) return globalThis.fetch(input);
  const { dispatcher: _proxyHandledByTheEntry, ...rest } = init;
  return globalThis.fetch(input, rest);
}
