/**
 * A deadline on every GitHub request. Octokit has none (its `fetch` waits as long as the socket
 * stays open), so one hung call held the App's per-PR queue, and every later delivery for that
 * PR, until a restart. Given to Octokit as `request.fetch`, it bounds each attempt: the retry
 * plugin's retries and the throttle's waits stay bounded by their own counts.
 */

export type Fetch = typeof globalThis.fetch;

/**
 * Far above a normal call (a page of 100 PR files, a 1 MB contents read: well under 5 s), and
 * short enough that a call hung on every attempt (1 + 3 retries) gives up within about 2 min.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const NULL_BODY = new Set([204, 205, 304]);

/** The error a timed-out call fails with; its message names the route, for the check run. */
export class GitHubTimeoutError extends Error {
  override name = "GitHubTimeoutError";
}

/** `fetch`, failing with a `GitHubTimeoutError` when no complete answer arrives within `timeoutMs`. */
export function timedFetch(timeoutMs: number, inner: Fetch = globalThis.fetch): Fetch {
  return async (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      const response = await inner(input, { ...init, signal });
      // Read the body under the same deadline: a server can hang after the headers too, and
      // Octokit turns a body it cannot read into an empty string instead of an error.
      const body = NULL_BODY.has(response.status) ? null : await response.arrayBuffer();
      const copy = new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(copy, "url", { value: response.url });
      return copy;
    } catch (error) {
      if (!deadline.aborted) throw error;
      const method = init?.method ?? "GET";
      const url = input instanceof Request ? input.url : String(input);
      throw new GitHubTimeoutError(`GitHub did not answer ${method} ${url} within ${timeoutMs / 1000} s`);
    }
  };
}

/** Octokit constructor options with the deadline added to whatever `request` options exist. */
export function withRequestTimeout<T extends object>(
  options: T,
  timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
): T & { request: { fetch: Fetch } } {
  const request = ((options as { request?: object }).request ?? {}) as { fetch?: Fetch };
  return { ...options, request: { ...request, fetch: timedFetch(timeoutMs, request.fetch) } };
}
