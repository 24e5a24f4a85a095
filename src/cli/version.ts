import manifest from "../../package.json" with { type: "json" };

/** The package version; bundled into dist/ at build time, so an installed CLI knows its own. */
export const VERSION: string = manifest.version;
