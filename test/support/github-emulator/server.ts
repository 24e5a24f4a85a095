/** The node:http front: prefix stripping, fault injection, dispatch, headers, request log. */
import { randomBytes } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { authenticate } from "./access.ts";
import {
  type CompiledRoute,
  type Ctx,
  DOCS_URL,
  HttpError,
  matchRoute,
  notFound,
  type Reply,
} from "./http.ts";
import { type EmulatorState, rateLimit } from "./state.ts";

/** Probot (GHE_HOST) calls `/api/v3/...`; @actions/github (GITHUB_API_URL) calls `/...`. */
const ENTERPRISE_PREFIX = "/api/v3";

export interface RequestLogEntry {
  method: string;
  /** Path without the `/api/v3` prefix and without the query string. */
  path: string;
  status: number;
  /** The request URL as received (prefix and query included). */
  url: string;
  /** The `X-GitHub-Api-Version` header the client sent, if any. */
  apiVersion: string | undefined;
}

export interface FaultRule {
  method?: string;
  pathIncludes: string;
  status: number;
  remaining: number;
  headers: Record<string, string>;
  /** Serve the request first (its write is applied), then answer with the fault: a lost reply. */
  after?: boolean;
  /** Leave out the `x-ratelimit-*` headers (GitHub's secondary limits may come without any). */
  bare?: boolean;
  /** Never answer: the connection stays open until the client gives up or the emulator closes. */
  hang?: boolean;
}

/** Requests being served at once, and the most seen; `delayMs` holds each one that long. */
export interface Concurrency {
  inFlight: number;
  max: number;
  delayMs: number;
}

export interface ServerDeps {
  state: EmulatorState;
  routes: CompiledRoute[];
  requests: RequestLogEntry[];
  faults: FaultRule[];
  concurrency: Concurrency;
}

function splitPrefix(pathname: string): { path: string; prefixed: boolean } {
  const prefixed = pathname === ENTERPRISE_PREFIX || pathname.startsWith(`${ENTERPRISE_PREFIX}/`);
  const path = prefixed ? pathname.slice(ENTERPRISE_PREFIX.length) || "/" : pathname;
  return { path: path.length > 1 ? path.replace(/\/+$/, "") : path, prefixed };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function parseJson(raw: Buffer): unknown {
  const text = raw.toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "Problems parsing JSON");
  }
}

// ---------------------------------------------------------------------------------------------
// Fault injection

function takeFault(faults: FaultRule[], method: string, target: string): FaultRule | undefined {
  const index = faults.findIndex(
    (f) => (f.method === undefined || f.method.toUpperCase() === method) && target.includes(f.pathIncludes),
  );
  const fault = faults[index];
  if (!fault) return undefined;
  fault.remaining -= 1;
  if (fault.remaining <= 0) faults.splice(index, 1);
  return fault;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  return Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
}

/** The message GitHub sends with such a status (what Octokit's throttling plugin looks for). */
function faultMessage(status: number, headers: Record<string, string>): string {
  if (status === 403 || status === 429) {
    if (headerValue(headers, "x-ratelimit-remaining") === "0")
      return "API rate limit exceeded for installation.";
    return "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
  }
  if (status === 502) return "Server Error";
  if (status === 401) return "Bad credentials";
  return STATUS_CODES[status] ?? "Error";
}

function faultReply(fault: FaultRule): Reply {
  const message = faultMessage(fault.status, fault.headers);
  return {
    status: fault.status,
    body: { message, documentation_url: DOCS_URL, status: String(fault.status) },
    headers: fault.headers,
  };
}

// ---------------------------------------------------------------------------------------------
// Dispatch

function dispatch(deps: ServerDeps, req: IncomingMessage, requestUrl: URL, rawBody: Buffer): Reply {
  const method = (req.method ?? "GET").toUpperCase();
  const { path, prefixed } = splitPrefix(requestUrl.pathname);
  const auth = authenticate(deps.state, req.headers.authorization);
  if (auth.kind === "invalid") throw new HttpError(401, "Bad credentials");
  const found = matchRoute(deps.routes, method, path);
  if (!found) throw notFound();
  const mode = found.route.auth;
  if (mode === "jwt" && auth.kind !== "jwt") {
    throw new HttpError(401, "A JSON web token could not be decoded");
  }
  if (mode === undefined && auth.kind === "jwt") {
    throw new HttpError(401, "A JSON web token cannot be used here: use an installation access token");
  }
  const ctx: Ctx = {
    state: deps.state,
    method,
    path,
    params: found.params,
    query: requestUrl.searchParams,
    body: parseJson(rawBody),
    headers: req.headers,
    auth,
    urls: { api: requestUrl.origin + (prefixed ? ENTERPRISE_PREFIX : ""), web: requestUrl.origin },
    requestUrl,
  };
  return found.route.handler(ctx);
}

function safeDispatch(deps: ServerDeps, req: IncomingMessage, requestUrl: URL, rawBody: Buffer): Reply {
  try {
    return dispatch(deps, req, requestUrl, rawBody);
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, body: error.body, headers: error.headers };
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 500,
      body: { message: `github-emulator internal error: ${message}`, documentation_url: DOCS_URL },
    };
  }
}

function requestId(): string {
  const hex = (n: number) => randomBytes(n).toString("hex").toUpperCase();
  return `${hex(2)}:${hex(3)}:${hex(4)}:${hex(4)}:${hex(4)}`;
}

function commonHeaders(state: EmulatorState): Record<string, string> {
  const rate = rateLimit(state);
  return {
    "x-github-request-id": requestId(),
    "x-github-api-version-selected": "2022-11-28",
    "x-github-media-type": "github.v3; format=json",
    "x-ratelimit-limit": String(rate.limit),
    "x-ratelimit-remaining": String(rate.remaining),
    "x-ratelimit-used": String(rate.used),
    "x-ratelimit-reset": String(rate.reset),
    "x-ratelimit-resource": "core",
  };
}

function send(res: ServerResponse, state: EmulatorState, reply: Reply, bare = false): void {
  const status = reply.status ?? 200;
  const common = commonHeaders(state);
  if (bare) for (const name of Object.keys(common)) if (name.startsWith("x-ratelimit-")) delete common[name];
  const headers: Record<string, string> = { ...common, ...reply.headers };
  if (status === 204 || (reply.body === undefined && !reply.raw)) {
    res.writeHead(status, headers).end();
  } else if (reply.raw) {
    res.writeHead(status, { ...headers, "content-type": reply.raw.contentType }).end(reply.raw.data);
  } else {
    const body = JSON.stringify(reply.body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(body);
  }
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const requestUrl = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
  const { path } = splitPrefix(requestUrl.pathname);
  const rawBody = await readBody(req);
  deps.state.requestCount += 1;
  const { concurrency } = deps;
  concurrency.inFlight += 1;
  concurrency.max = Math.max(concurrency.max, concurrency.inFlight);
  try {
    if (concurrency.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, concurrency.delayMs));
    const fault = takeFault(deps.faults, method, path + requestUrl.search);
    const version = req.headers["x-github-api-version"];
    const apiVersion = typeof version === "string" ? version : undefined;
    if (fault?.hang) {
      deps.requests.push({ method, path, status: 0, url: req.url ?? "/", apiVersion });
      return;
    }
    if (fault?.after) safeDispatch(deps, req, requestUrl, rawBody);
    const reply = fault ? faultReply(fault) : safeDispatch(deps, req, requestUrl, rawBody);
    deps.requests.push({
      method,
      path,
      status: reply.status ?? 200,
      url: req.url ?? "/",
      apiVersion,
    });
    send(res, deps.state, reply, fault?.bare === true);
  } finally {
    concurrency.inFlight -= 1;
  }
}

export function createEmulatorServer(deps: ServerDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ message: `github-emulator internal error: ${String(error)}` }));
    });
  });
}
