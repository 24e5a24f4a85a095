/**
 * A tiny Prometheus exporter on 127.0.0.1 for the rollout tests: `GET /metrics` serves fixed
 * series in the text exposition format (version 0.0.4). Series can be replaced while it runs.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface Series {
  name: string;
  labels?: Record<string, string>;
  value: number;
}

export interface MetricsExporter {
  /** `127.0.0.1:PORT`, a scrape target. */
  target: string;
  url: string;
  /** How many times `/metrics` was scraped. */
  scrapes(): number;
  set(series: Series[]): void;
  close(): Promise<void>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** The exposition text: one `# TYPE` line per metric name, then its samples. */
export function exposition(series: readonly Series[]): string {
  const byName = new Map<string, Series[]>();
  for (const s of series) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const lines: string[] = [];
  for (const [name, samples] of byName) {
    lines.push(
      `# HELP ${name} Fixed test series.`,
      `# TYPE ${name} ${name.endsWith("_total") ? "counter" : "gauge"}`,
    );
    for (const sample of samples) {
      const labels = Object.entries(sample.labels ?? {})
        .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
        .join(",");
      lines.push(`${name}${labels ? `{${labels}}` : ""} ${sample.value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function startMetricsExporter(initial: Series[] = []): Promise<MetricsExporter> {
  let current = initial;
  let scrapes = 0;
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url?.split("?")[0] === "/metrics") {
      scrapes++;
      res
        .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
        .end(exposition(current));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/metrics`,
    scrapes: () => scrapes,
    set(series) {
      current = series;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
