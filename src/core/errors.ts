/**
 * An error a user caused and can fix (bad config, bad case file, bad flag).
 * Doors print `message` as is and exit 2; they never print its stack.
 */
export class UserError extends Error {
  override readonly name = "UserError";
}

/** Errors from reading the repo (unknown ref, not a git repo…): also the user's to fix. */
export class RepoError extends UserError {}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
