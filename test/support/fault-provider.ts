import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A tiny OpenAI-compatible provider on loopback whose every answer a test scripts: the faults
 * a real provider can send (429 with any Retry-After, 500 forever, malformed bodies, a hung
 * `/v1/models`) on the wire, to the real `openai` SDK.
 */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown; raw?: string }
  | "hang";

export interface ChatRequest {
  model: string;
  /** Last user or system message text, to tell cases apart. */
  prompt: string;
  /** 1-based count of chat requests seen so far (all of them). */
  n: number;
}

export interface FaultProvider {
  /** Base URL including `/v1`. */
  url: string;
  chatRequests: number;
  modelRequests: number;
  close(): Promise<void>;
}

export function answer(model: string, content: unknown, usage?: unknown): Reply {
  return {
    status: 200,
    body: {
      id: "chatcmpl-test",
      object: "chat.completion",
      created: 0,
      model,
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
      ...(usage === undefined ? {} : { usage }),
    },
  };
}

export const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

export async function startFaultProvider(options: {
  chat: (request: ChatRequest) => Reply;
  models?: () => Reply;
  modelIds?: string[];
}): Promise<FaultProvider> {
  const hung = new Set<ServerResponse>();
  const state = { chatRequests: 0, modelRequests: 0 };
  const send = (res: ServerResponse, reply: Reply) => {
    if (reply === "hang") {
      hung.add(res);
      return;
    }
    res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    res.end(reply.raw ?? JSON.stringify(reply.body ?? { error: { message: `status ${reply.status}` } }));
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === "GET" && req.url?.endsWith("/models")) {
      state.modelRequests++;
      const ids = options.modelIds ?? ["gpt-test"];
      send(
        res,
        options.models?.() ?? {
          status: 200,
          body: {
            object: "list",
            data: ids.map((id) => ({ id, object: "model", created: 0, owned_by: "t" })),
          },
        },
      );
      return;
    }
    state.chatRequests++;
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      model: string;
      messages: Array<{ content: string }>;
    };
    send(
      res,
      options.chat({
        model: body.model,
        prompt: body.messages.map((m) => m.content).join("\n"),
        n: state.chatRequests,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get chatRequests() {
      return state.chatRequests;
    },
    get modelRequests() {
      return state.modelRequests;
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
