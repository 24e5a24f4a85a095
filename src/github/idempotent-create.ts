import { setTimeout as sleep } from "node:timers/promises";
import { httpStatus } from "./client.ts";

/**
 * A create that is safe to repeat. A 5xx or a dropped connection does not say whether GitHub
 * applied the write, so before sending it again, `find` looks for what it would have made (a
 * comment by its marker, a check run by its external id): found, that is the result; not
 * found, the create is sent again. Any other error (4xx) is the answer and is thrown.
 */
export async function createIdempotently<T>(
  create: () => Promise<T>,
  find: () => Promise<T | undefined>,
  options: { attempts?: number; backoffMs?: number } = {},
): Promise<{ value: T; recovered: boolean }> {
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await create(), recovered: false };
    } catch (error) {
      const status = httpStatus(error);
      const unknownOutcome = status === undefined || status >= 500;
      if (!unknownOutcome || attempt >= attempts) throw error;
      await sleep(backoffMs * attempt);
      const found = await find();
      if (found !== undefined) return { value: found, recovered: true };
    }
  }
}
