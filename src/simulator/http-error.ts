import type { OpenAIErrorBody } from "./protocol.ts";

/** An HTTP error answered in OpenAI's error shape (`{error: {message, type, code, param}}`). */
export class HttpError extends Error {
  readonly status: number;
  readonly body: OpenAIErrorBody;
  constructor(status: number, body: OpenAIErrorBody) {
    super(body.error.message);
    this.status = status;
    this.body = body;
  }
}
