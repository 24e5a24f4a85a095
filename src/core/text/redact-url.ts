/**
 * A base URL as it may be printed: credentials in it (`user:pass@`, `?api-key=…`) become
 * `***`. Every query value is hidden except a few known-harmless ones, since a provider may
 * name its key parameter anything. Text that is not a URL is still scrubbed of the
 * `//user:pass@` and query parts, so an error about a malformed URL cannot leak them.
 */
const HARMLESS_PARAMS = new Set(["api-version", "api_version"]);

export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.replace(/\/\/[^/?#\s]*@/g, "//***@").replace(/\?[^#\s]*/g, "?***");
  }
  if (url.username || url.password) {
    url.username = "***";
    url.password = "";
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (!HARMLESS_PARAMS.has(name.toLowerCase())) url.searchParams.set(name, "***");
  }
  if (url.hash.length > 1) url.hash = "***";
  // URLSearchParams percent-encodes the stars; keep them readable.
  return url.toString().replace(/%2A%2A%2A/g, "***");
}
