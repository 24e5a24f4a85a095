import type { IncomingMessage } from "node:http";

export type CappedBody =
  | { ok: true; raw: Buffer }
  | {
      ok: false;
      status: 400 | 413;
      error: string;
      /** The body was not read to its end: the connection must be closed, not reused. */
      unread: boolean;
    };

/**
 * A request body of at most `maxBytes`, refused while it streams: a declared length over the cap
 * is refused before a byte is read, and a body that grows past it stops being read (the stream
 * is paused), so no more than `maxBytes` is ever held. `onChunk` sees each chunk as it arrives
 * (the webhook's HMAC is computed that way).
 */
export function readCappedBody(
  req: IncomingMessage,
  maxBytes: number,
  tooLarge: string,
  onChunk?: (chunk: Buffer) => void,
): Promise<CappedBody> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes)
    return Promise.resolve({ ok: false, status: 413, error: tooLarge, unread: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (result: CappedBody) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      if (!result.ok && result.unread) req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > maxBytes) {
        stop({ ok: false, status: 413, error: tooLarge, unread: true });
        return;
      }
      onChunk?.(buffer);
      chunks.push(buffer);
    };
    const onEnd = () => stop({ ok: true, raw: Buffer.concat(chunks, size) });
    const onError = () =>
      stop({ ok: false, status: 400, error: "the request body could not be read", unread: true });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
