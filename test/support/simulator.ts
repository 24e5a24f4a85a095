import { join } from "node:path";
import {
  mergeProfiles,
  readProfileFile,
  type Simulator,
  type SimulatorProfiles,
  startSimulator,
} from "../../src/simulator/index.ts";
import { ROOT } from "./cli.ts";

export const EXAMPLE_PROFILE = join(ROOT, "examples/acme-support/simulator.yml");

/** Built-ins + the example's answers, with the built-ins' background faults off so counts are exact. */
export async function exampleProfiles(overrides?: Partial<SimulatorProfiles>): Promise<SimulatorProfiles> {
  const quiet = mergeProfiles(await readProfileFile(EXAMPLE_PROFILE), {
    version: 1,
    defaults: { errors: { server_error: 0, unavailable: 0, rate_limit: 0 } },
  });
  return overrides ? mergeProfiles(quiet, { version: 1, ...overrides }) : quiet;
}

export async function startExampleSimulator(
  overrides?: Partial<SimulatorProfiles>,
  timeScale = 0,
): Promise<Simulator> {
  // It stands in for a real provider here: without its `x-modelgate-simulated` header, so runs
  // against it are judged as real ones (test/eval-simulator-endpoint.test.ts covers the header).
  return startSimulator({ profiles: await exampleProfiles(overrides), timeScale, announce: false });
}
