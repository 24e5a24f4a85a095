import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback Batch API in front of a chat-completions endpoint (the simulator): `/v1/files`
 * (multipart upload, content), `/v1/batches` (create, retrieve, cancel); every other route is
 * proxied to `upstream`. A batch runs its lines against the upstream when it is first read after
 * creation, so a test sees `validating` → `in_progress` → an end. Faults are set per test:
 * `endAs` ends the next batch `expired`/`cancelled`/`failed` after `answerFirst` lines,
 * writing `batch_expired`/`batch_cancelled` error lines for the rest, as OpenAI does.
 */
export interface BatchStub {
  url: string;
  /** Every batch created, with its input lines. */
  created: Array<{ id: string; lines: number }>;
  /** Ends the next batch(es) early. */
  fault: {
    endAs?: "expired" | "cancelled" | "failed";
    answerFirst?: number;
    stayInProgress?: boolean;
    /** The first `count` lines of the next batch get this HTTP status instead of an answer. */
    status?: { code: number; count: number };
  };
  cancelled: string[];
  close(): Promise<void>;
}

interface StubBatch {
  id: string;
  input_file_id: string;
  status: string;
  reads: number;
  lines: string[];
  output_file_id?: string;
  error_file_id?: string;
  request_counts: { total: number; completed: number; failed: number };
  errors?: { data: Array<{ code: string; message: string }> };
}

export async function startBatchStub(upstream: string): Promise<BatchStub> {
  const files = new Map<string, string>();
  const batches = new Map<string, StubBatch>();
  let next = 0;
  const stub: BatchStub = {
    url: "",
    created: [],
    fault: {},
    cancelled: [],
    close: async () => {},
  };
  const newId = (prefix: string) => `${prefix}_${++next}`;

  const runBatch = async (batch: StubBatch) => {
    const fault = stub.fault;
    const answered: string[] = [];
    const errored: string[] = [];
    for (const [index, line] of batch.lines.entries()) {
      const request = JSON.parse(line) as { custom_id: string; body: unknown };
      if (fault.endAs && index >= (fault.answerFirst ?? 0)) {
        const code = fault.endAs === "cancelled" ? "batch_cancelled" : "batch_expired";
        errored.push(
          JSON.stringify({
            custom_id: request.custom_id,
            response: null,
            error: { code, message: "not run" },
          }),
        );
        continue;
      }
      if (fault.status && index < fault.status.count) {
        errored.push(
          JSON.stringify({
            custom_id: request.custom_id,
            response: {
              status_code: fault.status.code,
              request_id: newId("req"),
              body: { error: { message: "stub server error", type: "server_error" } },
            },
            error: null,
          }),
        );
        continue;
      }
      const res = await fetch(`${upstream}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
        body: JSON.stringify(request.body),
      });
      const body = (await res.json()) as unknown;
      const out = JSON.stringify({
        id: newId("line"),
        custom_id: request.custom_id,
        response: { status_code: res.status, request_id: newId("req"), body },
        error: null,
      });
      if (res.ok) answered.push(out);
      else errored.push(out);
    }
    if (answered.length) {
      batch.output_file_id = newId("file");
      files.set(batch.output_file_id, `${answered.join("\n")}\n`);
    }
    if (errored.length) {
      batch.error_file_id = newId("file");
      files.set(batch.error_file_id, `${errored.join("\n")}\n`);
    }
    batch.request_counts = {
      total: batch.lines.length,
      completed: answered.length,
      failed: errored.length,
    };
    batch.status = fault.endAs ?? "completed";
    if (fault.endAs === "failed") batch.errors = { data: [{ code: "invalid", message: "stub failure" }] };
    stub.fault = {};
  };

  const view = (batch: StubBatch) => ({
    id: batch.id,
    object: "batch",
    endpoint: "/v1/chat/completions",
    input_file_id: batch.input_file_id,
    completion_window: "24h",
    status: batch.status,
    created_at: 0,
    request_counts: batch.request_counts,
    ...(batch.output_file_id ? { output_file_id: batch.output_file_id } : {}),
    ...(batch.error_file_id ? { error_file_id: batch.error_file_id } : {}),
    ...(batch.errors ? { errors: { object: "list", ...batch.errors } } : {}),
  });

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => json(res, 500, { error: { message: String(error) } }));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method === "POST" && path === "/v1/files") {
      const form = await new Request("http://x", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body: raw,
      }).formData();
      const file = form.get("file");
      if (form.get("purpose") !== "batch" || !(file instanceof Blob))
        return json(res, 400, { error: { message: "bad upload" } });
      const id = newId("file");
      files.set(id, await file.text());
      return json(res, 200, {
        id,
        object: "file",
        bytes: file.size,
        created_at: 0,
        filename: "x",
        purpose: "batch",
      });
    }
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (req.method === "GET" && content) {
      const text = files.get(content[1] ?? "");
      if (text === undefined) return json(res, 404, { error: { message: "no such file" } });
      res.writeHead(200, { "content-type": "application/jsonl" });
      return res.end(text);
    }
    if (req.method === "POST" && path === "/v1/batches") {
      const body = JSON.parse(raw.toString("utf8")) as {
        input_file_id: string;
        completion_window: string;
        endpoint: string;
      };
      const text = files.get(body.input_file_id);
      if (
        text === undefined ||
        body.completion_window !== "24h" ||
        body.endpoint !== "/v1/chat/completions"
      ) {
        return json(res, 400, { error: { message: "bad batch" } });
      }
      const lines = text.split("\n").filter((l) => l !== "");
      const batch: StubBatch = {
        id: newId("batch"),
        input_file_id: body.input_file_id,
        status: "validating",
        reads: 0,
        lines,
        request_counts: { total: lines.length, completed: 0, failed: 0 },
      };
      batches.set(batch.id, batch);
      stub.created.push({ id: batch.id, lines: lines.length });
      return json(res, 200, view(batch));
    }
    const one = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (one) {
      const batch = batches.get(one[1] ?? "");
      if (!batch) return json(res, 404, { error: { message: "no such batch" } });
      if (one[2] && req.method === "POST") {
        stub.cancelled.push(batch.id);
        batch.status = "cancelling";
        return json(res, 200, view(batch));
      }
      batch.reads++;
      if (batch.status === "validating") batch.status = "in_progress";
      else if (batch.status === "in_progress" && !stub.fault.stayInProgress) await runBatch(batch);
      return json(res, 200, view(batch));
    }
    // Everything else (models, chat completions) is the upstream's.
    const proxied = await fetch(`${upstream}${path.replace(/^\/v1/, "")}`, {
      method: req.method ?? "GET",
      headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
      ...(req.method === "POST" ? { body: raw } : {}),
    });
    res.writeHead(proxied.status, { "content-type": "application/json" });
    res.end(Buffer.from(await proxied.arrayBuffer()));
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  stub.close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  return stub;
}
