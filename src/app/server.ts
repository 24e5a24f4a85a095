/**
 * `npm start`: the modelgate GitHub App as a long-running server, configured by Probot's usual
 * environment (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT, HOST, GHE_HOST,
 * GHE_PROTOCOL, LOG_LEVEL, LOG_FORMAT). See docs/attribution.md.
 */
import { errorMessage } from "../core/errors.ts";
import { loadDotEnv, needsSetup, startSetup } from "./setup-mode.ts";
import { startServer } from "./start-server.ts";

// A handler error is answered with a 500 and a failing check; nothing a delivery does may stop
// the server for every other repository.
process.on("unhandledRejection", (reason) => {
  process.stderr.write(`modelgate: unhandled rejection: ${errorMessage(reason)}\n`);
});

loadDotEnv();
// Probot's createProbot defaults to `warn`, which hides where the server listens; a server's
// operator expects `info` (what Probot's own `probot run` uses).
process.env.LOG_LEVEL ||= "info";
try {
  // Without credentials: Probot's setup page until the App is registered; then restart.
  const server = needsSetup(process.env) ? await startSetup(process.env) : await startServer();
  const stop = (signal: string) => {
    process.stderr.write(`modelgate: ${signal}, closing\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
} catch (error) {
  process.stderr.write(`modelgate: cannot start the app: ${errorMessage(error)}\n`);
  process.exitCode = 1;
}
