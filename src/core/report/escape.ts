/**
 * Untrusted text in the PR comment (docs/action.md#security). Anything a model wrote or a repo
 * provides (case IDs, route names, details, model IDs, reasons) goes through one of these
 * before it reaches markdown, so it cannot produce HTML, live @mentions or #references,
 * break a table row or close a code fence, and cannot forge our hidden HTML comments.
 */

const ZWJ = "\u200d";
const ZWSP = "\u200b";

/** Control characters, zero-width and bidi-override characters: invisible, or reorder what is shown. */
function isInvisible(codePoint: number): boolean {
  return (
    (codePoint < 0x20 && codePoint !== 0x0a && codePoint !== 0x09) ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    (codePoint >= 0x200b && codePoint <= 0x200f) ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2060 && codePoint <= 0x2069) ||
    codePoint === 0xfeff
  );
}

/** Normalizes line ends to "\n" and drops invisible characters and lone surrogates. */
export function stripInvisible(text: string): string {
  const normalized = String(text)
    .toWellFormed()
    .replace(/\r\n?|[\u2028\u2029]/g, "\n");
  let out = "";
  for (const char of normalized) {
    if (!isInvisible(char.codePointAt(0) ?? 0)) out += char;
  }
  return out;
}

/** At most `max` code points, with "…" when cut. Cut before escaping: escapes lengthen text. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text.slice(0, max * 2));
  if (points.length <= max) return points.join("");
  return `${points.slice(0, Math.max(0, max - 1)).join("")}…`;
}

function oneLine(text: string): string {
  return text.replace(/[\n\t]+/g, " ");
}

/** Mentions, and issue references (`#12`, `org/repo#12`) that would notify or back-link. */
function defuseReferences(text: string): string {
  return text.replace(/@/g, `@${ZWJ}`).replace(/#(?=\d)/g, `#${ZWJ}`);
}

/**
 * Untrusted text as inline markdown on one line, safe in a table cell: HTML characters
 * become entities, markdown punctuation is backslash-escaped (emphasis, links, code,
 * `$` math, `|` cells), newlines become spaces, and a zero-width joiner follows every `@`.
 */
export function escapeUntrusted(text: string): string {
  const escaped = oneLine(stripInvisible(text))
    .replace(/[\\`*_[\]~|$]/g, "\\$&")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
  return defuseReferences(escaped);
}

/** Our own formatted text (numbers, money) in markdown: only `$` (GitHub math) and `|` need care. */
export function markdownSafe(text: string): string {
  return text.replace(/[$|]/g, "\\$&");
}

/**
 * Code spans and blocks show text literally, but the raw body is also scanned by machines
 * (our markers, HTML sanitizers): a zero-width space after `<` keeps a tag or `<!--` inert
 * in the raw text too, and one in `-->` keeps it from closing a hidden comment.
 */
function defuseCode(text: string): string {
  return defuseReferences(text.replace(/<(?=[A-Za-z!/?])/g, `<${ZWSP}`).replace(/--(?=!?>)/g, `-${ZWSP}-`));
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/**
 * Untrusted text as an inline code span on one line, cut to `max` characters. The fence is
 * longer than any backtick run inside. In a table cell (`table: true`) pipes are escaped as
 * GFM asks; elsewhere they stay literal.
 */
export function inlineCode(text: string, options: { max?: number; table?: boolean } = {}): string {
  const { max = 120, table = false } = options;
  let body = defuseCode(oneLine(stripInvisible(truncate(String(text), max))));
  if (body.trim() === "") return "*(empty)*";
  if (table) body = body.replace(/\|/g, "\\|");
  const fence = "`".repeat(longestBacktickRun(body) + 1);
  const pad =
    body.startsWith("`") || body.endsWith("`") || (body.startsWith(" ") && body.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** Untrusted text as a fenced code block, the fence longer than any backtick run inside. */
export function codeBlock(text: string, language = ""): string {
  const body = defuseCode(stripInvisible(String(text)));
  const fence = "`".repeat(Math.max(3, longestBacktickRun(body) + 1));
  const info = language.replace(/[^a-z0-9-]/gi, "");
  return `${fence}${info}\n${body}\n${fence}`;
}

/** A markdown link to an http(s) URL, or `null` when `url` is not one. */
export function safeLink(label: string, url: string | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  const href = parsed.href.replace(
    /[()[\]<>|'"`\s\\]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  return `[${escapeUntrusted(label)}](${href})`;
}
