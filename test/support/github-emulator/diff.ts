/**
 * Tree-to-tree diff with per-file line counts and a single-hunk unified patch (best effort:
 * common prefix and suffix are trimmed, the middle is reported as removed + added lines).
 */
import type { FlatEntry, FlatTree, ObjectStore } from "./git.ts";

export type ChangeStatus = "added" | "removed" | "modified" | "renamed";

export interface FileChange {
  filename: string;
  status: ChangeStatus;
  previous_filename?: string;
  /** Blob sha on the head side (base side for removed files). */
  sha: string;
  additions: number;
  deletions: number;
  changes: number;
  /** Absent for binary or empty content, as on GitHub. */
  patch?: string;
}

const CONTEXT = 3;

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

function hunkRange(start: number, length: number): string {
  return length === 1 ? `${start}` : `${start},${length}`;
}

interface LineDiff {
  additions: number;
  deletions: number;
  patch?: string;
}

export function lineDiff(before: string, after: string): LineDiff {
  const a = splitLines(before);
  const b = splitLines(after);
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const removed = a.slice(prefix, a.length - suffix);
  const added = b.slice(prefix, b.length - suffix);
  if (removed.length === 0 && added.length === 0) return { additions: 0, deletions: 0 };
  const start = Math.max(0, prefix - CONTEXT);
  const before_ = a.slice(start, prefix);
  const after_ = a.slice(a.length - suffix, Math.min(a.length, a.length - suffix + CONTEXT));
  const oldLength = before_.length + removed.length + after_.length;
  const newLength = before_.length + added.length + after_.length;
  const oldStart = oldLength === 0 ? start : start + 1;
  const newStart = newLength === 0 ? start : start + 1;
  const lines = [
    `@@ -${hunkRange(oldStart, oldLength)} +${hunkRange(newStart, newLength)} @@`,
    ...before_.map((l) => ` ${l}`),
    ...removed.map((l) => `-${l}`),
    ...added.map((l) => `+${l}`),
    ...after_.map((l) => ` ${l}`),
  ];
  return { additions: added.length, deletions: removed.length, patch: lines.join("\n") };
}

function blobContent(store: ObjectStore, entry: FlatEntry | undefined): Buffer {
  if (entry?.type !== "blob") return Buffer.alloc(0);
  return store.blob(entry.sha)?.content ?? Buffer.alloc(0);
}

function describe(
  store: ObjectStore,
  filename: string,
  status: ChangeStatus,
  base: FlatEntry | undefined,
  head: FlatEntry | undefined,
): FileChange {
  const before = blobContent(store, base);
  const after = blobContent(store, head);
  const binary = isBinary(before) || isBinary(after);
  const diff = binary
    ? { additions: 0, deletions: 0 }
    : lineDiff(before.toString("utf8"), after.toString("utf8"));
  const change: FileChange = {
    filename,
    status,
    sha: (head ?? base)?.sha ?? "",
    additions: diff.additions,
    deletions: diff.deletions,
    changes: diff.additions + diff.deletions,
  };
  if (diff.patch !== undefined) change.patch = diff.patch;
  return change;
}

/** Files that differ between two trees, sorted by filename; exact-content moves become renames. */
export function diffTrees(store: ObjectStore, base: FlatTree, head: FlatTree): FileChange[] {
  const changes: FileChange[] = [];
  const gone = new Set<string>();
  const goneBySha = new Map<string, string[]>();
  for (const [path, entry] of base) {
    if (head.has(path)) continue;
    gone.add(path);
    goneBySha.set(entry.sha, [...(goneBySha.get(entry.sha) ?? []), path]);
  }
  for (const [path, entry] of head) {
    const old = base.get(path);
    if (old) {
      if (old.sha !== entry.sha || old.mode !== entry.mode) {
        changes.push(describe(store, path, "modified", old, entry));
      }
      continue;
    }
    const movedFrom = goneBySha.get(entry.sha)?.shift();
    if (movedFrom !== undefined) {
      gone.delete(movedFrom);
      const rename = describe(store, path, "renamed", entry, entry);
      rename.previous_filename = movedFrom;
      changes.push(rename);
    } else {
      changes.push(describe(store, path, "added", undefined, entry));
    }
  }
  for (const path of gone) changes.push(describe(store, path, "removed", base.get(path), undefined));
  return changes.sort((x, y) => (x.filename < y.filename ? -1 : x.filename > y.filename ? 1 : 0));
}
