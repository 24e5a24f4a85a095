import { UserError } from "../core/errors.ts";
import { formatListening, ProfileError, readProfileFile, startSimulator } from "../simulator/index.ts";
import { parseCommandArgs } from "./args.ts";
import { type CommandIo, CommandUsageError } from "./io.ts";

export const SIMULATE_USAGE = `Usage: modelgate simulate [--port N] [--profile FILE] [--time-scale X]

Starts the built-in OpenAI-compatible simulator on 127.0.0.1 (GET /v1/models, POST /v1/chat/completions).
Its gpt-5.4 / gpt-5.5 profiles are SIMULATED: useful to see the flow, not to judge real models.
--profile layers a YAML/JSON profile file (answers, latency, faults) over the built-ins.
Point a client at it with OPENAI_BASE_URL=http://127.0.0.1:PORT/v1: 'modelgate eval' then needs no
key and labels the numbers simulated (the simulator says what it is on every response). Stops on Ctrl-C.`;

export async function simulateCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("simulate", argv, {
    port: { type: "string", default: "0" },
    profile: { type: "string" },
    "time-scale": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CommandUsageError("simulate", `--port: expected a port number 0-65535, found '${values.port}'`);
  }
  const timeScale = values["time-scale"] === undefined ? 1 : Number(values["time-scale"]);
  if (!(timeScale >= 0))
    throw new CommandUsageError(
      "simulate",
      `--time-scale: expected a number ≥ 0, found '${values["time-scale"]}'`,
    );
  let profiles: Awaited<ReturnType<typeof readProfileFile>> | undefined;
  try {
    profiles = values.profile ? await readProfileFile(values.profile) : undefined;
  } catch (error) {
    if (error instanceof ProfileError) throw new UserError(error.message);
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new UserError(`--profile: ${values.profile} does not exist`);
    throw error;
  }
  let simulator: Awaited<ReturnType<typeof startSimulator>>;
  try {
    simulator = await startSimulator({ port, timeScale, ...(profiles ? { profiles } : {}) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UserError(`--port: port ${port} is already in use`);
    throw error;
  }
  io.stdout(`${formatListening(simulator.url)}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await simulator.close();
  return 0;
}
