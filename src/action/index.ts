import * as core from "@actions/core";
import { run } from "./main.ts";
import { useEnvProxy } from "./proxy.ts";

/** The Action's entry (dist/index.js): everything else happens in `run`, which never throws. */
const refused = useEnvProxy(process.env);
if (refused) core.setFailed(refused);
else await run();
