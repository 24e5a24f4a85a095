import { type GitHub, httpStatus, mapLimit, type RepoRef } from "./client.ts";

/**
 * The text of one file at a ref (branch, tag or sha), or `null` when it does not exist there,
 * is a directory or a submodule, or is binary. Uses the raw media type, which serves files up
 * to 100 MB (the JSON form stops at 1 MB).
 */
export async function readFileAt(
  gh: GitHub,
  at: RepoRef & { path: string; ref?: string | undefined },
): Promise<string | null> {
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(gh, at);
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw error;
  }
  // A directory answers with its JSON listing whatever the media type asked for.
  if (/^application\/json\b/.test(String(response.headers["content-type"] ?? ""))) return null;
  const bytes = await bodyBytes(response.data);
  if (bytes.includes(0)) return null;
  return new TextDecoder("utf-8").decode(bytes);
}

function request(gh: GitHub, at: RepoRef & { path: string; ref?: string | undefined }) {
  return gh.request("GET /repos/{owner}/{repo}/contents/{path}", {
    owner: at.owner,
    repo: at.repo,
    path: at.path,
    ...(at.ref ? { ref: at.ref } : {}),
    mediaType: { format: "raw" },
    // Bytes as served: Octokit would otherwise parse a JSON file or hand back an ArrayBuffer,
    // depending on the content type.
    request: { parseSuccessResponseBody: false },
  });
}

async function bodyBytes(data: unknown): Promise<Uint8Array> {
  if (data === null || data === undefined) return new Uint8Array();
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(await new Response(data as ReadableStream<Uint8Array>).arrayBuffer());
}

/** Several files at one ref, a few requests at a time; missing ones map to `null`. */
export async function readFilesAt(
  gh: GitHub,
  at: RepoRef & { ref: string },
  paths: readonly string[],
  concurrency = 8,
): Promise<Map<string, string | null>> {
  const unique = [...new Set(paths)];
  const texts = await mapLimit(unique, concurrency, (path) => readFileAt(gh, { ...at, path }));
  return new Map(unique.map((path, i) => [path, texts[i] ?? null]));
}
