/** Entry of `dist/attribution.js`: the attribution check as a workflow step (see main.ts). */
import { runWorkflow } from "./main.ts";

process.exitCode = await runWorkflow(process.env);
