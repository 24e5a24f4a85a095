import { escapeUntrusted } from "../report/escape.ts";
import type { Alert } from "./payload.ts";

/**
 * What the receiver writes: the trigger text the watch records (alert names and fingerprints,
 * never the alert's numbers) and the comment on the rollback PR when an alert resolves.
 */

/** Marks the one comment per resolved alert episode (fingerprint + start) on the rollback PR. */
export const RESOLVED_MARKER_PREFIX = "<!-- modelgate:alert-resolved ";

/**
 * The marker of one alert episode. The fingerprint is hex (checked by the payload schema) and
 * the start is re-printed from a parsed date, so nothing from the payload reaches the HTML
 * comment unchecked. The same alert firing again later has a new `startsAt`: a new episode.
 */
export function resolvedMarker(alert: Pick<Alert, "fingerprint" | "startsAt">): string {
  return `${RESOLVED_MARKER_PREFIX}${alert.fingerprint}@${new Date(alert.startsAt).toISOString()} -->`;
}

/** One line for the watch record: which alerts woke the App up. */
export function alertTrigger(alerts: ReadonlyArray<{ alert: Alert; name: string }>): string {
  const named = alerts
    .slice(0, 5)
    .map(({ alert, name }) => `${name.slice(0, 100)} (fingerprint ${alert.fingerprint})`)
    .join(", ");
  const more = alerts.length > 5 ? ` and ${alerts.length - 5} more` : "";
  return `Alertmanager alert ${named}${more}`;
}

export function renderResolvedComment(alert: Alert, name: string): string {
  const started = new Date(alert.startsAt).toISOString();
  return [
    resolvedMarker(alert),
    `### Alert resolved: the rollback is not reverted`,
    "",
    `Alertmanager reports the alert **${escapeUntrusted(name.slice(0, 100))}** (fingerprint \`${alert.fingerprint}\`, firing since ${started}) as resolved.`,
    "",
    "modelgate never reverts a rollback on its own: this PR stays open. A resolved alert is not evidence that the candidate is healthy (the traffic may simply have moved, or the window forgotten the breach). Merge this PR to roll back, or close it if you decide to keep the candidate; the next phase needs a `rollout:<N>` label and its production gates as usual.",
    "",
  ].join("\n");
}
