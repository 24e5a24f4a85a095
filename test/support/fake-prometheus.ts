import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The part of Prometheus' HTTP API the metrics client uses: POST /api/v1/query, form-encoded. */
export async function fakePrometheus(answer: (query: string) => number | null) {
  const asked: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      const query = new URLSearchParams(body).get("query") ?? "";
      asked.push(query);
      const value = answer(query);
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify({
          status: "success",
          data: {
            resultType: "vector",
            result: value === null ? [] : [{ metric: {}, value: [0, String(value)] }],
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries: () => asked.length,
    /** Every query asked so far, in order. */
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
