/** Entry point: the emulator lives in ./github-emulator/ (see index.ts there). */
export * from "./github-emulator/index.ts";
