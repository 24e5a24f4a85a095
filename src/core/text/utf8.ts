/**
 * UTF-8 sizes. GitHub limits some fields in bytes (a check run's `output.summary` and `text`:
 * 65,535), and a CJK character is 3 bytes but 1 UTF-16 unit, so `.length` undercounts 3×.
 * Pure arithmetic on UTF-16 units: the core uses no Buffer or TextEncoder.
 */

/** Bytes of `text` encoded as UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as encoders write it). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/**
 * The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, cut after the last newline
 * that fits when there is one (markdown stays well-formed line by line), never inside a
 * surrogate pair.
 */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  let lastNewline = -1;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const pair = unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1));
    const size = unit < 0x80 ? 1 : unit < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    if (pair) i++;
    end = i + 1;
    if (unit === 0x0a) lastNewline = end;
  }
  return text.slice(0, lastNewline > 0 ? lastNewline : end);
}
