/**
 * A real Alertmanager for tests: Debian's `prometheus-alertmanager` binary (installed by
 * .ci/services), started on 127.0.0.1 with a temporary config and data directory, gossip off
 * (`--cluster.listen-address=` empty), and one webhook receiver with short group timers.
 * Nothing is skipped when the binary is missing: starting fails with a message saying how to
 * install it (vitest.config.ts leaves the suite out on a laptop without it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "./daemon.ts";
import { freePort } from "./net.ts";

export interface AlertmanagerServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, for Prometheus' `alerting.alertmanagers`. */
  target: string;
  /** Webhook notifications sent so far, by outcome, from Alertmanager's own /metrics. */
  notifications(): Promise<{ sent: number; failed: number }>;
  log(): string;
  stop(): Promise<void>;
}

export interface AlertmanagerOptions {
  /** Where the webhook receiver posts. */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer …` (`http_config.authorization.credentials`). */
  bearerToken: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Default: `prometheus-alertmanager` on PATH (Debian's name), else `alertmanager`; `ALERTMANAGER_BIN` overrides. */
  binary?: string;
}

const INSTALL_HINT =
  "the watch tests need Debian's prometheus-alertmanager: run `bash .ci/services` (apt-get install -y prometheus-alertmanager), or set ALERTMANAGER_BIN";

function runs(binary: string): boolean {
  const probe = spawnSync(binary, ["--version"], { stdio: "ignore" });
  return !probe.error && probe.status === 0;
}

export function alertmanagerBinary(binary = process.env.ALERTMANAGER_BIN): string {
  const candidates = binary ? [binary] : ["prometheus-alertmanager", "alertmanager"];
  const found = candidates.find(runs);
  if (!found)
    throw new Error(`alertmanager is not available (tried ${candidates.join(", ")}); ${INSTALL_HINT}`);
  return found;
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const binary = alertmanagerBinary(options.binary);
  const dir = mkdtempSync(join(tmpdir(), "modelgate-alertmanager-"));
  const config = join(dir, "alertmanager.yml");
  writeFileSync(
    config,
    [
      "route:",
      "  receiver: modelgate",
      "  group_by: [modelgate_repo]",
      `  group_wait: ${options.groupWait ?? "1s"}`,
      `  group_interval: ${options.groupInterval ?? "1s"}`,
      `  repeat_interval: ${options.repeatInterval ?? "3s"}`,
      "receivers:",
      "  - name: modelgate",
      "    webhook_configs:",
      `      - url: ${JSON.stringify(options.webhookUrl)}`,
      "        send_resolved: true",
      "        http_config:",
      "          authorization:",
      "            type: Bearer",
      `            credentials: ${JSON.stringify(options.bearerToken)}`,
      "",
    ].join("\n"),
  );
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(binary, dir, config, port);
    } catch (error) {
      lastError = error instanceof Error ? error : new Error(String(error));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error("alertmanager did not start");
}

async function launch(
  binary: string,
  dir: string,
  config: string,
  port: number,
): Promise<AlertmanagerServer> {
  const daemon = await startDaemon(
    "alertmanager",
    binary,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, `data-${port}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No gossip: one instance, no 9094 port to collide on.
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    port,
  );
  const { url } = daemon;
  return {
    url,
    target: `127.0.0.1:${port}`,
    async notifications() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const value = (name: string) =>
        Number(new RegExp(`^${name}\\{[^}]*integration="webhook"[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
      return {
        sent: value("alertmanager_notifications_total"),
        failed: value("alertmanager_notifications_failed_total"),
      };
    },
    log: daemon.log,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
