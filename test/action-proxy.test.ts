import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { useEnvProxy } from "../src/action/proxy.ts";
import {
  expectNoStack,
  openPull,
  pullRequestPayload,
  runAction,
  startWorld,
  type World,
} from "./support/action-harness.ts";

/**
 * The Action behind a proxy: dist/index.js carries no undici (scripts/shims/undici.ts), so the
 * runner's HTTPS_PROXY / HTTP_PROXY / NO_PROXY reach GitHub through Node's own fetch. Run with
 * MODELGATE_TEST_DIST=1 to test the bundle itself.
 */

let world: World | undefined;
let proxy: http.Server | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  proxy?.closeAllConnections();
  proxy?.close();
  proxy = undefined;
});

/** A forward proxy that sends every request, whatever host it names, to `port` on loopback. */
async function startProxy(port: number): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  proxy = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? "/");
    const upstream = http.request(
      { host: "127.0.0.1", port, path: url.pathname + url.search, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const upstream = net.connect(port, "127.0.0.1", () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  const address = proxy.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${address.port}`, seen };
}

const NODE_20 = { setGlobalProxyFromEnv: undefined, version: "v20.20.2" };
function recorder(calls: NodeJS.ProcessEnv[]) {
  return {
    setGlobalProxyFromEnv: (env: NodeJS.ProcessEnv) => {
      calls.push(env);
      return () => {};
    },
    version: "v24.22.3",
  };
}

describe("useEnvProxy", () => {
  it("leaves Node alone when no proxy is set", () => {
    const calls: NodeJS.ProcessEnv[] = [];
    expect(useEnvProxy({ NO_PROXY: "example.com" }, recorder(calls))).toBeUndefined();
    expect(calls).toHaveLength(0);
  });

  it("routes through the proxy and keeps loopback and NO_PROXY direct", () => {
    const calls: NodeJS.ProcessEnv[] = [];
    const env = { HTTPS_PROXY: "http://proxy.corp:3128", no_proxy: "internal.corp" };
    expect(useEnvProxy(env, recorder(calls))).toBeUndefined();
    expect(calls[0]?.HTTPS_PROXY).toBe("http://proxy.corp:3128");
    expect(calls[0]?.NO_PROXY).toBe("internal.corp,localhost,127.0.0.1,::1");
    expect(calls[0]?.no_proxy).toBe(calls[0]?.NO_PROXY);
  });

  it("stops with one line naming the variable and the Node version when Node cannot use a proxy", () => {
    const refused = useEnvProxy({ https_proxy: "http://proxy.corp:3128" }, NODE_20);
    expect(refused).toBe(
      "https_proxy is set, but Node v20.20.2 cannot send requests through a proxy without NODE_USE_ENV_PROXY=1; the Action needs Node 24.14 or newer (the runner's node24) or that variable.",
    );
    expect(useEnvProxy({ https_proxy: "x", NODE_USE_ENV_PROXY: "1" }, NODE_20)).toBeUndefined();
  });
});

describe("modelgate Action behind a proxy", () => {
  it("reaches the GitHub API through HTTP_PROXY when the API host is not reachable directly", async () => {
    world = await startWorld();
    const { number } = openPull(world, "docs", { "README.md": "# Acme\n\nBetter docs.\n" });
    const emulatorPort = new URL(world.emu.url).port;
    const { url, seen } = await startProxy(Number(emulatorPort));
    const before = world.emu.requests.length;
    // `.invalid` never resolves: only the proxy can reach this API host.
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      env: { GITHUB_API_URL: `http://api.github.invalid:${emulatorPort}`, HTTP_PROXY: url },
    });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.verdict).toBe("skipped");
    expect(world.emu.requests.length).toBeGreaterThan(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((line) => line.includes("api.github.invalid"))).toBe(true);
  });
});
