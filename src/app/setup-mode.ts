import { existsSync } from "node:fs";
import { run } from "probot";
import appFn from "./index.ts";

/**
 * First start without credentials: Probot's own setup flow. It serves a page that registers the
 * App on GitHub from `app.yml` (the manifest flow) and writes APP_ID, PRIVATE_KEY and
 * WEBHOOK_SECRET to `.env`; the next `npm start` runs the App. Never in production, where
 * missing credentials are a configuration error.
 */
export function needsSetup(env: NodeJS.ProcessEnv): boolean {
  return !env.APP_ID || !(env.PRIVATE_KEY || env.PRIVATE_KEY_PATH);
}

/**
 * Loads `.env` from the working directory (what the setup flow writes) into `process.env`.
 * `process.loadEnvFile` never overrides a variable that is already set, so the environment wins.
 */
export function loadDotEnv(file = ".env"): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export async function startSetup(env: NodeJS.ProcessEnv): Promise<{ close(): Promise<void> }> {
  if (env.NODE_ENV === "production") {
    throw new Error(
      "APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are not set; in production set them from the App's settings (docs/app.md)",
    );
  }
  if (!existsSync("app.yml")) {
    throw new Error(
      "setup needs app.yml in the working directory: start it from the modelgate checkout or package folder",
    );
  }
  // Loopback unless told otherwise: the setup page hands out the App's credentials.
  const server = await run(appFn, { env: { ...env, HOST: env.HOST || "127.0.0.1" } });
  return { close: () => server.stop() };
}
