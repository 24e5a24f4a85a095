import { type ChildProcess, spawn } from "node:child_process";

/**
 * A server binary (Prometheus, Alertmanager) started on loopback for a test, and ready once its
 * `GET /-/ready` answers 200. Its stderr is kept (the last 20 KB) for failure messages; an exit
 * before it is ready, or 30 s without readiness, is an error that shows it.
 */
export interface Daemon {
  url: string;
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startDaemon(
  name: string,
  binary: string,
  args: string[],
  port: number,
): Promise<Daemon> {
  const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code) => {
      exited = code;
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === undefined) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined)
      throw new Error(`${name} exited with ${exited} before it was ready:\n${stderr}`);
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready within 30 s:\n${stderr}`);
    }
    await sleep(100);
  }
  return { url, log: () => stderr, stop };
}
