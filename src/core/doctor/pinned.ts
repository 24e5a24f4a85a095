/**
 * Whether a model ID names a fixed snapshot. A floating name (`gpt-4o`) is moved to a new
 * snapshot by the provider without a commit, so an eval of it proves nothing about next week;
 * a pinned one (`gpt-4o-2024-08-06`) changes only when someone changes the config.
 *
 * Pinned forms seen at providers: a date (`-2024-08-06`, `-20241022`, `@20240620`), a short
 * date (`-0613`), or a version number (`-001`, `@001`), optionally followed by `-preview`.
 */
const PINNED = /(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|\d{3}))(?:-preview)?$/;

export function isPinnedModelId(model: string): boolean {
  return PINNED.test(model);
}

/** Snapshots of `model` the provider lists (`gpt-5.4` → `gpt-5.4-2026-03-05`), newest first. */
export function offeredSnapshots(model: string, offered: Iterable<string>): string[] {
  const out: string[] = [];
  for (const id of offered) {
    if (!id.startsWith(model)) continue;
    // The rest must be the pin alone: `gpt-5.4-mini-2026-03-17` is another model, not a snapshot.
    const rest = id.slice(model.length);
    if (rest !== "" && PINNED.test(rest) && rest.replace(PINNED, "") === "") out.push(id);
  }
  return out.sort().reverse();
}
