import { runActionBench } from "../bench/action.bench.ts";
import { runAppBench } from "../bench/app.bench.ts";
import { runBatchBench, runBatchEvalBench } from "../bench/batch.bench.ts";
import { runBigChangeBench } from "../bench/big-change.bench.ts";
import { runClassifyBench } from "../bench/classify.bench.ts";
import { runEvalBench } from "../bench/eval.bench.ts";
import { runCheckpointBench } from "../bench/eval-checkpoint.bench.ts";
import { runFixedNBench } from "../bench/fixed-n.ts";
import { runGatesBench } from "../bench/gates.bench.ts";
import { printResults } from "../bench/harness.ts";
import { runRetryStormBench } from "../bench/retry-storm.bench.ts";

/** `npm run bench`: every benchmark, printed as figures with the target or the floor beside them. */
const only = process.argv[2];
const suites: Record<string, () => Promise<void> | void> = {
  classify: () => printResults([...runClassifyBench(), ...runBigChangeBench()]),
  gates: () => {
    process.stdout.write(`${runGatesBench()}\n`);
  },
  eval: async () =>
    printResults([
      ...(await runEvalBench()),
      ...(await runCheckpointBench()),
      ...(await runRetryStormBench()),
    ]),
  action: async () => printResults(await runActionBench()),
  app: async () => printResults(await runAppBench()),
  "fixed-n": () => runFixedNBench(),
  batch: async () => printResults([...(await runBatchEvalBench()), ...(await runBatchBench())]),
};
for (const [name, suite] of Object.entries(suites)) {
  if (only && only !== name) continue;
  process.stdout.write(`\n== ${name} ==\n`);
  await suite();
}
