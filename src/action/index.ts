import { run } from "./main.ts";

/** The Action's entry (dist/index.js): everything else happens in `run`, which never throws. */
await run();
