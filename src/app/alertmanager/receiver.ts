import type { IncomingMessage, ServerResponse } from "node:http";
import type { Probot } from "probot";
import { parseAlertmanagerPayload } from "../../core/alertmanager/payload.ts";
import { httpStatus } from "../../github/client.ts";
import { appIdentity } from "../identity.ts";
import { KeyedQueue } from "../keyed-queue.ts";
import { readAlertmanagerRequest, receiverConfig } from "./gate.ts";
import { type AlertDeps, handleAlerts } from "./handle.ts";

/** Where Alertmanager's webhook receiver posts (docs/rollout.md, "The watch"). */
export const ALERTMANAGER_PATH = "/api/alertmanager";

/** How long a refused upload is drained (and dropped) before its connection is cut. */
const LINGER_MS = 1_000;

/** Exactly the receiver's path (a query string is allowed); anything else is not ours. */
export function isAlertmanagerPath(url: string | undefined): boolean {
  return url !== undefined && url.split("?")[0] === ALERTMANAGER_PATH;
}

export interface ReceiverOptions {
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

/**
 * The receiver as a request handler for `start-server.ts`, which routes the exact path here
 * before Probot. Its own queue (one task per repository); label handlers key theirs
 * by PR, so sharing one queue would not order the two anyway: the rollback PR's lookup by branch
 * is what keeps a label and an alert to one PR.
 */
export function alertmanagerReceiver(
  probot: Probot,
  options: ReceiverOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const config = receiverConfig(options.env);
  if (config.on) probot.log.info(`Alertmanager receiver on at POST ${ALERTMANAGER_PATH}`);
  else if (config.misconfigured) probot.log.error(config.reason);
  else probot.log.info(config.reason);
  const whoAmI = appIdentity(probot);
  const deps: AlertDeps = {
    env: options.env,
    log: {
      info: (message) => probot.log.info(message),
      warn: (message) => probot.log.warn(message),
      error: (message) => probot.log.error(message),
    },
    queue: new KeyedQueue(),
    author: async () => (await whoAmI()).bot_login,
    async installation(target) {
      // As the App (JWT): which installation covers the repository, then a client for it.
      // Probot's `auth` builds both against GHE_HOST when it is set.
      const app = await probot.auth();
      let id: number;
      try {
        const { data } = await app.request("GET /repos/{owner}/{repo}/installation", target);
        id = data.id;
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
      return probot.auth(id);
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };

  return async (req, res) => {
    const gate = await readAlertmanagerRequest(req, config);
    if (!gate.ok) {
      res.writeHead(gate.status, { "content-type": "application/json", ...gate.headers });
      res.end(`${JSON.stringify({ error: gate.error })}\n`);
      if (gate.unread) {
        // As for webhooks: read and drop the rest for a moment so the client sees the answer.
        res.once("finish", () => {
          req.resume();
          setTimeout(() => req.destroy(), LINGER_MS).unref();
        });
      }
      return;
    }
    const parsed = parseAlertmanagerPayload(gate.body);
    if (!parsed.ok) {
      probot.log.warn(`alertmanager: refused payload: ${parsed.error}`);
      res
        .writeHead(400, { "content-type": "application/json" })
        .end(`${JSON.stringify({ error: parsed.error })}\n`);
      return;
    }
    const answer = await handleAlerts(deps, parsed.payload);
    res
      .writeHead(answer.status, { "content-type": "application/json" })
      .end(`${JSON.stringify(answer.body)}\n`);
  };
}
