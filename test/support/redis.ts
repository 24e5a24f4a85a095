import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "./net.ts";

/** A real Redis server (Debian's `redis-server`, installed by .ci/services) on loopback, no persistence. */
export interface RedisServer {
  url: string;
  /** Sends one inline command and returns the raw RESP reply. */
  command(line: string): Promise<string>;
  close(): Promise<void>;
}

function send(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: "127.0.0.1" }, () => socket.write(`${line}\r\n`));
    let reply = "";
    socket.setTimeout(2_000, () => socket.destroy(new Error(`redis: no reply to ${line}`)));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      // One reply: a simple line, or an array whose elements have all arrived (good enough for KEYS).
      if (/\r\n$/.test(reply)) {
        socket.end();
        resolve(reply);
      }
    });
    socket.on("error", reject);
  });
}

export async function startRedis(
  binary = process.env.REDIS_SERVER_BIN || "redis-server",
): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await send(port, "PING")).startsWith("+PONG")) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server was not ready within 15 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    command: (line) => send(port, line),
    close: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
