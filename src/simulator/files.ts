import type { FileObject } from "openai/resources/files";
import type { BatchInputLine } from "./batch-input.ts";

/**
 * The simulator's `/v1/files` store: in memory, gone when the server closes. Batch input files
 * keep their parsed lines, so a batch never re-reads (or re-judges) the text.
 */

export type StoredPurpose = "batch" | "batch_output";

export interface StoredFile {
  object: FileObject;
  content: Buffer;
  /** Parsed requests of a `purpose=batch` upload. */
  lines?: BatchInputLine[];
}

/** Batch files expire after 30 days at OpenAI; reported, not enforced (the store lives in memory). */
const BATCH_FILE_TTL_S = 30 * 24 * 3600;

export class FileStore {
  readonly #files = new Map<string, StoredFile>();
  #counter = 0;
  #bytes = 0;
  /** Uploads are refused once the store holds this much (a long-lived `simulate` must not grow without end). */
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Whether an upload of `size` bytes still fits (batch outputs are always stored). */
  fits(size: number): boolean {
    return this.#bytes + size <= this.maxBytes;
  }

  get storedBytes(): number {
    return this.#bytes;
  }

  add(filename: string, purpose: StoredPurpose, content: Buffer, lines?: BatchInputLine[]): FileObject {
    this.#counter += 1;
    const createdAt = Math.floor(Date.now() / 1000);
    const object: FileObject = {
      id: `file-sim${this.#counter.toString(16).padStart(8, "0")}`,
      object: "file",
      bytes: content.length,
      created_at: createdAt,
      expires_at: createdAt + BATCH_FILE_TTL_S,
      filename,
      purpose,
      status: "processed",
    };
    this.#files.set(object.id, { object, content, ...(lines ? { lines } : {}) });
    this.#bytes += content.length;
    return object;
  }

  get(id: string): StoredFile | undefined {
    return this.#files.get(id);
  }

  delete(id: string): boolean {
    const file = this.#files.get(id);
    if (!file) return false;
    this.#bytes -= file.content.length;
    return this.#files.delete(id);
  }

  /** Newest first, like OpenAI's default `order=desc`. */
  list(): FileObject[] {
    return [...this.#files.values()].map((f) => f.object).reverse();
  }
}
