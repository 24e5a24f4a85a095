/** The built-in OpenAI-compatible simulator (see server.ts for endpoints and the fault header). */
export {
  BATCH_ENDPOINTS,
  type BatchEndpoint,
  BatchInputError,
  type BatchInputLine,
  MAX_BATCH_FILE_BYTES,
  MAX_BATCH_LINES,
  parseBatchInput,
} from "./batch-input.ts";
export type { BatchHook, BatchHookInfo, BatchOutputLine } from "./batches.ts";
export {
  FAULT_NAMES,
  type FaultName,
  type ForcedFaults,
  type Plan,
  parseFaultHeader,
  planCompletion,
} from "./behaviour.ts";
export { BUILTIN_ANSWERS, BUILTIN_SNAPSHOTS, builtinProfiles } from "./builtin-profiles.ts";
export {
  type AnswerSpec,
  buildCatalog,
  DEFAULT_BEHAVIOUR,
  loadProfiles,
  type ModelBehaviour,
  type ModelCatalog,
  type ModelProfile,
  mergeProfiles,
  ProfileError,
  profilesFileSchema,
  readProfileFile,
  resolveModel,
  SIMULATOR_OWNER,
  type SimulatorProfiles,
} from "./profiles.ts";
export {
  FAULT_COUNT_HEADER,
  FAULT_HEADER,
  formatListening,
  SIMULATED_HEADER,
  type Simulator,
  type SimulatorBatchOptions,
  type SimulatorOptions,
  type SimulatorStats,
  startSimulator,
} from "./server.ts";
