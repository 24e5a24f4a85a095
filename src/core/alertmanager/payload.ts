import { z } from "zod";

/**
 * Alertmanager's webhook payload, version 4 (the only one it sends since 0.x:
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). Only the keys the
 * receiver reads are required; others (`receiver`, `externalURL`, `generatorURL` …) may come and
 * go between Alertmanager versions and are ignored. Everything in it is untrusted: anyone who
 * holds the token, or a misrouted receiver, can send it.
 */

/** Alertmanager's fingerprint is 16 hex digits; a little room, never free text (it lands in a marker). */
const FINGERPRINT = /^[0-9a-f]{1,64}$/;

const stringRecord = z.record(z.string(), z.string());

const alertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: stringRecord,
  annotations: stringRecord.optional(),
  startsAt: z.iso.datetime({ offset: true, local: false }),
  // A firing alert has Go's zero time here ("0001-01-01T00:00:00Z"), still a date-time.
  endsAt: z.iso.datetime({ offset: true }).optional(),
  fingerprint: z.string().regex(FINGERPRINT, "16 lowercase hex digits (Alertmanager's fingerprint)"),
});

export const alertmanagerPayloadSchema = z.object({
  version: z.literal("4"),
  status: z.enum(["firing", "resolved"]),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  alerts: z.array(alertSchema).max(1_000),
});

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;
export type Alert = AlertmanagerPayload["alerts"][number];

export type ParsedPayload = { ok: true; payload: AlertmanagerPayload } | { ok: false; error: string };

/** The payload, or one line naming the first key that is wrong and what was expected there. */
export function parseAlertmanagerPayload(body: unknown): ParsedPayload {
  const parsed = alertmanagerPayloadSchema.safeParse(body);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const issue = parsed.error.issues[0];
  if (!issue) return { ok: false, error: "not an Alertmanager webhook payload" };
  return {
    ok: false,
    error: `${keyPath(issue.path) || "body"}: ${issue.message} (an Alertmanager webhook payload, version 4)`,
  };
}

/** `alerts[0].labels.severity`: dots between names, brackets around indexes. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
