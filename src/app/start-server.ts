import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, createProbot, type Probot, ProbotOctokit } from "probot";
import { apiVersion } from "../github/api-version.ts";
import {
  type ClientPolicy,
  DEFAULT_CLIENT_POLICY,
  type LimitLog,
  reliabilityOptions,
} from "../github/octokit-options.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, withRequestTimeout } from "../github/request-timeout.ts";
import { noBlindRepeats } from "../github/retry-rules.ts";
import { alertmanagerReceiver, isAlertmanagerPath } from "./alertmanager/receiver.ts";
import appFn from "./index.ts";
import { readSignedBody } from "./webhook-body.ts";

export const WEBHOOK_PATH = "/api/github/webhooks";

/** How long a refused upload is drained (and dropped) before its connection is cut. */
const LINGER_MS = 1_000;

export interface StartOptions {
  /** Probot's environment: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT, HOST, GHE_HOST, GHE_PROTOCOL, LOG_LEVEL… */
  env?: NodeJS.ProcessEnv;
  /** Octokit throttling and retries; production keeps the defaults (both on). */
  client?: ClientPolicy;
  /** Deadline of each GitHub request attempt, in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** Overrides `PORT` (0 picks a free port) and `HOST`. */
  port?: number;
  host?: string;
}

export interface RunningServer {
  /** `http://host:port`, without the webhook path. */
  url: string;
  port: number;
  probot: Probot;
  close(): Promise<void>;
}

/**
 * Probot's Octokit with our reliability options applied on top of Probot's own, for the app's
 * client and every installation client Probot derives from it (they keep their per-installation
 * throttle id).
 */
export function reliableOctokit(
  policy: ClientPolicy,
  log: LimitLog,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): typeof ProbotOctokit {
  const options = reliabilityOptions(policy, log);
  // Plugins: the API version header on every call; no blind repeat of a create after a 5xx.
  // Every attempt has a deadline, so a hung call fails (and is retried) instead of wedging a queue.
  return ProbotOctokit.plugin(apiVersion, noBlindRepeats).defaults((instance: Record<string, unknown>) => ({
    ...withRequestTimeout(instance as { request?: object }, requestTimeoutMs),
    throttle: options.throttle.enabled
      ? { ...(instance.throttle as object | undefined), ...options.throttle }
      : options.throttle,
    retry: { ...(instance.retry as object | undefined), ...options.retry },
  }));
}

/**
 * The App as a server: Probot's webhook middleware at `/api/github/webhooks` (signatures
 * checked by `@octokit/webhooks`: a missing or wrong `X-Hub-Signature-256` gets a 4xx before
 * any handler runs), `GET /healthz` for load balancers, Alertmanager's webhook at
 * `/api/alertmanager` (its own token and cap: `alertmanager/receiver.ts`), 404 for the rest.
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  if (!env.WEBHOOK_SECRET) {
    // Probot would fall back to the secret "development", accepting anything signed with it.
    throw new Error("WEBHOOK_SECRET is not set: set it to the webhook secret of the GitHub App");
  }
  if (!env.APP_ID) throw new Error("APP_ID is not set: set it to the id of the GitHub App");
  let probot: Probot | undefined;
  const limitLog: LimitLog = { warn: (message) => probot?.log.warn(message) };
  const Octokit = reliableOctokit(
    options.client ?? DEFAULT_CLIENT_POLICY,
    limitLog,
    options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  );
  try {
    probot = createProbot({ env, overrides: { Octokit } });
  } catch (error) {
    if (error instanceof Error && /privateKey/.test(error.message)) {
      throw new Error(
        "no private key: set PRIVATE_KEY (the PEM, or its base64) or PRIVATE_KEY_PATH (the .pem file)",
      );
    }
    throw error;
  }
  const webhooksPath = env.WEBHOOK_PATH || WEBHOOK_PATH;
  const middleware = await createNodeMiddleware(appFn, { probot, webhooksPath });
  const log = probot.log;
  const secret = env.WEBHOOK_SECRET;
  const alertmanager = alertmanagerReceiver(probot, { env });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET" && (req.url === "/healthz" || req.url === "/ping")) {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    // Alertmanager's webhook (issue 13): its own bearer token and body cap, never Probot's path.
    if (isAlertmanagerPath(req.url)) {
      alertmanager(req, res).catch((error: unknown) => {
        log.error({ err: error }, "alertmanager request failed");
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    // Probot's manifest flow registers the App with its webhook at the server's root URL.
    if (req.method === "POST" && req.url === "/") req.url = webhooksPath;
    const toProbot = () =>
      middleware(req, res, () => {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Not Found"}\n');
      });
    Promise.resolve(
      // Every POST, whatever its path: Probot resolves `..` and slashes in the path itself, so a
      // path test of ours could differ from its and let a body through unbounded.
      req.method === "POST" ? verifiedThen(req, res, secret, toProbot) : toProbot(),
    ).catch((error: unknown) => {
      log.error({ err: error }, "webhook request failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const port = options.port ?? (env.PORT ? Number(env.PORT) : 3000);
  const host = options.host ?? env.HOST;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, ...(host ? { host } : {}) }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  log.info(
    `modelgate app listening on http://${shownHost}:${address.port}${env.WEBHOOK_PATH || WEBHOOK_PATH}`,
  );
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    probot,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The body read, size-capped and signature-checked before Probot sees it (`webhook-body.ts`);
 * Probot then takes the verified bytes as `rawBody` instead of reading the stream itself.
 */
async function verifiedThen(
  req: IncomingMessage,
  res: ServerResponse,
  secret: string,
  next: () => unknown,
): Promise<unknown> {
  const body = await readSignedBody(req, secret);
  if (body.ok) {
    Object.assign(req, { body: body.payload, rawBody: body.raw });
    return next();
  }
  res.writeHead(body.status, { "content-type": "application/json" });
  res.end(`${JSON.stringify({ error: body.error })}\n`);
  if (body.unread) {
    // A lingering close: the client is still sending, and closing a socket with unread input
    // resets it, which can destroy our answer before the client reads it. So the rest is read
    // and dropped (nothing is kept) for a moment, then the connection is cut.
    res.once("finish", () => {
      req.resume();
      setTimeout(() => req.destroy(), LINGER_MS).unref();
    });
  }
  return undefined;
}
