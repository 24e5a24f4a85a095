import type { Classification } from "../classify/classify.ts";
import { GATES } from "../gates.ts";
import { CHECK_NAMES } from "../protocol.ts";
import { escapeUntrusted, inlineCode } from "../report/escape.ts";
import { formatInterval, formatSigned, formatValue, shortSha } from "../report/format.ts";
import type { GateName, GateResult } from "../result.ts";
import { type EvidencePick, evidenceProblem, type IgnoredEvidence } from "./evidence.ts";
import {
  ALPHA_BREACH,
  ALPHA_WITHIN,
  evaluateProductionGates,
  formatP,
  type ProductionArms,
  type ProductionGate,
  type ProductionGatesConfig,
} from "./production-gates.ts";

/**
 * The checks a promotion label must pass, in order (issue 6, point 2). Each judge is pure and
 * returns a step: its status and one line of markdown for the decision comment, with every
 * repository- or user-provided string escaped.
 */

export type StepName = "phase" | "attribution" | "eval" | "production" | "rehearsal";

/**
 * - `hold`: not enough data to decide; never promotes, never rolls back.
 * - `not_required`: the phase does not ask for it (production metrics and the rehearsal only
 *   gate from the second phase on).
 */
export type StepStatus = "pass" | "fail" | "hold" | "not_required";

export interface Step {
  name: StepName;
  status: StepStatus;
  /** Markdown: what was checked and what it found. */
  detail: string;
}

export const STEP_TITLES: Record<StepName, string> = {
  phase: "Next phase",
  attribution: "Model-only change",
  eval: "Eval evidence",
  production: "Production metrics",
  rehearsal: "Rollback rehearsal",
};

// ---------------------------------------------------------------------------------------------
// Phase

export interface PhaseInput {
  /** The share on the base branch: the phase production is in. */
  current: number;
  target: number;
  phases: readonly number[];
  allow_skip: boolean;
}

export interface PhaseJudgement extends Step {
  /** Production metrics and a rollback rehearsal are required (the target is past the first phase). */
  gated: boolean;
  /** 1-based position of the target among the phases, or 0 when it is not one. */
  position: number;
}

export function judgePhase(input: PhaseInput): PhaseJudgement {
  const { current, target, phases } = input;
  const index = phases.indexOf(target);
  const list = phases.map((p) => `${p} %`).join(" → ");
  const next = phases.find((p) => p > current);
  const base = { name: "phase" as const, gated: index >= 1, position: index + 1 };
  if (index < 0)
    return { ...base, status: "fail", detail: `${target} % is not a rollout phase (phases: ${list}).` };
  if (target === current)
    return {
      ...base,
      status: "fail",
      detail: `The base branch is already at ${current} %: nothing to promote.`,
    };
  if (target < current) {
    return {
      ...base,
      status: "fail",
      detail: `${target} % is below the current ${current} %; a promotion only moves forward (to go back, use the rollback label).`,
    };
  }
  if (next !== undefined && target > next && !input.allow_skip) {
    return {
      ...base,
      status: "fail",
      detail: `${current} % → ${target} % skips ${phases
        .filter((p) => p > current && p < target)
        .map((p) => `${p} %`)
        .join(", ")}; the next phase is ${next} % (phases: ${list}; \`rollout.allow_skip\` is off).`,
    };
  }
  const skipped =
    next !== undefined && target > next ? ` (skipping ${next} %: \`rollout.allow_skip\` is on)` : "";
  return {
    ...base,
    status: "pass",
    detail: `${current} % → ${target} %, phase ${index + 1} of ${phases.length} (${list})${skipped}.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Attribution

export interface AttributionInput {
  classification: Classification;
  /** `llm.config`: its rollout key may change along with the model keys. */
  llm_file: string;
  share_key: string;
}

/**
 * A rollout PR changes the model and nothing else: every changed file is model-only, except
 * that the LLM config may also change the share at `rollout.key` (the App's own commit does).
 * A truncated file list fails closed.
 */
export function judgeAttribution(input: AttributionInput): Step {
  const { classification } = input;
  if (classification.truncated) {
    return {
      name: "attribution",
      status: "fail",
      detail:
        "The PR's file list was truncated (over 3,000 files), so the change cannot be shown to be model-only.",
    };
  }
  const [unreadable] = classification.unreadable ?? [];
  if (unreadable) {
    return {
      name: "attribution",
      status: "fail",
      detail: `${unreadable.path}${unreadable.line === null ? "" : `:${unreadable.line}`} cannot be read at the ${unreadable.side} side (${unreadable.reason}), so the change cannot be shown to be model-only. To fix: ${unreadable.fix}.`,
    };
  }
  const offending: string[] = [];
  for (const file of classification.files) {
    const isShare = (key: string) => file.path === input.llm_file && key === input.share_key;
    const bad = new Set<string>(file.categories.filter((c) => c === "prompt" || c === "infra"));
    if (file.keys.some((k) => k.category === "other" && !isShare(k.path))) bad.add("other");
    // A file compared as a whole (not structured, or unparsable) counts only by its path.
    if (file.keys.length === 0 && file.categories.every((c) => c === "other")) bad.add("other");
    if (bad.size === 0) continue;
    const keys = file.keys
      .filter((k) => bad.has(k.category) && !isShare(k.path))
      .map((k) => inlineCode(k.path, { max: 80 }));
    const shown = keys.length ? `: ${keys.slice(0, 4).join(", ")}${keys.length > 4 ? ", …" : ""}` : "";
    offending.push(`${inlineCode(file.path, { max: 120 })} (${[...bad].sort().join(", ")}${shown})`);
  }
  if (offending.length > 0) {
    return {
      name: "attribution",
      status: "fail",
      detail: `A rollout PR may change only the model; this one also changes ${offending.slice(0, 8).join("; ")}${offending.length > 8 ? `; and ${offending.length - 8} more` : ""}.`,
    };
  }
  const keys = classification.files.flatMap((f) =>
    f.keys.filter((k) => k.category === "model").map((k) => k.path),
  );
  return {
    name: "attribution",
    status: "pass",
    detail:
      keys.length > 0
        ? `Only model keys change: ${keys
            .slice(0, 6)
            .map((k) => inlineCode(k, { max: 80 }))
            .join(", ")}${keys.length > 6 ? ", …" : ""}.`
        : "Nothing but the share changes.",
  };
}

// ---------------------------------------------------------------------------------------------
// Evidence (eval and rehearsal)

const EVIDENCE_WHAT = {
  eval: { name: "eval", title: "eval", check: CHECK_NAMES.eval },
  rehearsal: { name: "rehearsal", title: "rollback rehearsal", check: CHECK_NAMES.rehearsal },
} as const;

export interface EvidenceInput {
  pick: EvidencePick;
  trusted_bot: string;
  head_sha: string;
  /** For the rehearsal: the rollback model the LLM config names (undefined: none). */
  rollback_model?: string | undefined;
}

export function judgeEvidence(input: EvidenceInput): Step {
  const { pick } = input;
  const what = EVIDENCE_WHAT[pick.kind];
  const sha = shortSha(input.head_sha) ?? escapeUntrusted(input.head_sha);
  const bot = login(input.trusted_bot);
  const ignored = ignoredNote(pick.ignored);
  if (pick.kind === "rehearsal" && input.rollback_model === undefined) {
    return {
      name: what.name,
      status: "fail",
      detail:
        "The LLM config names no rollback model, so there is nothing to roll back to and nothing to rehearse.",
    };
  }
  const { evidence, source } = pick;
  if (!evidence || !source) {
    return {
      name: what.name,
      status: "fail",
      detail: `No ${what.title} evidence from ${bot} for \`${sha}\` (a comment or the \`${what.check}\` check run).${ignored}`,
    };
  }
  const from = `${source.origin === "comment" ? "comment" : "check run"} by ${login(source.author)}`;
  const problem = evidenceProblem(evidence);
  const numbers = evidenceNumbers(evidence.kpis, evidence.gates);
  if (problem) {
    return {
      name: what.name,
      status: "fail",
      detail: `The ${what.title} evidence for \`${sha}\` (${from}) does not count: ${problem}. ${numbers}${ignored}`,
    };
  }
  const model =
    pick.kind === "rehearsal" && input.rollback_model ? ` of ${inlineCode(input.rollback_model)}` : "";
  return {
    name: what.name,
    status: "pass",
    detail: `Verdict pass${model} for \`${sha}\` (${from}). ${numbers}${ignored}`,
  };
}

function evidenceNumbers(
  kpis: { base: Record<string, number | null>; head: Record<string, number | null> },
  gates: ReadonlyArray<{ name: GateName; status: string; value: number | null; threshold: number }>,
): string {
  const rate = (name: string) =>
    `${name.replace(/_/g, " ")} ${formatValue(kpis.base[name], "percent")} → ${formatValue(kpis.head[name], "percent")}`;
  const gateText = gates
    .map(
      (g) =>
        `${ident(g.name)} ${ident(g.status)} (${formatValue(g.value, GATES[g.name].unit)} vs ${formatValue(g.threshold, GATES[g.name].unit)})`,
    )
    .join(", ");
  return `${rate("completion_rate")}, ${rate("error_rate")}${gateText ? `; gates: ${gateText}` : ""}.`;
}

function ignoredNote(ignored: readonly IgnoredEvidence[]): string {
  if (ignored.length === 0) return "";
  const untrusted = ignored.filter((i) => i.reason === "untrusted_author");
  const stale = ignored.filter((i) => i.reason === "other_commit");
  const malformed = ignored.filter((i) => i.reason === "malformed");
  const parts: string[] = [];
  const [firstMalformed] = malformed;
  if (firstMalformed) {
    parts.push(
      `ignored ${malformed.length} evidence block${malformed.length === 1 ? "" : "s"} that do${malformed.length === 1 ? "es" : ""} not match the evidence schema (${escapeUntrusted(firstMalformed.problem ?? "malformed")})`,
    );
  }
  if (untrusted.length) {
    const who = [...new Set(untrusted.map((i) => login(i.author)))].slice(0, 5).join(", ");
    parts.push(
      `ignored ${untrusted.length} evidence block${untrusted.length === 1 ? "" : "s"} not written by the trusted bot (from ${who})`,
    );
  }
  if (stale.length) {
    parts.push(
      `ignored ${stale.length} for other commits (${[
        ...new Set(stale.map((i) => shortSha(i.head_sha) ?? "?")),
      ]
        .slice(0, 5)
        .map((s) => `\`${s}\``)
        .join(", ")})`,
    );
  }
  return ` ${parts.join("; ")}.`.replace(/^ (\w)/, (_m, c: string) => ` ${c.toUpperCase()}`);
}

// ---------------------------------------------------------------------------------------------
// Production metrics

export interface ArmQuery {
  arm: "control" | "candidate";
  count: "requests" | "errors" | "tasks" | "completed";
  query: string;
  value: number | null;
}

/** What the metrics source said about the current phase. */
export type ProductionReading =
  | { kind: "counts"; source: string; arms: ProductionArms; queries?: ArmQuery[] }
  | { kind: "missing"; source: string; reason: string; queries?: ArmQuery[] };

export interface ProductionJudgement extends Step {
  gates: ProductionGate[];
  /** A gate failed beyond noise: the rollback trigger. */
  breach: boolean;
  reading: ProductionReading;
}

export function judgeProduction(
  reading: ProductionReading,
  gatesConfig: ProductionGatesConfig,
  current: number,
): ProductionJudgement {
  const name = "production" as const;
  if (reading.kind === "missing") {
    return {
      name,
      status: "hold",
      detail: `Hold: no production numbers for the current ${current} % phase (${escapeUntrusted(reading.reason)}). Missing data never promotes and never rolls back.`,
      gates: [],
      breach: false,
      reading,
    };
  }
  const gates = evaluateProductionGates(reading.arms, gatesConfig);
  const { control, candidate } = reading.arms;
  const arms = `control ${armText(control)}; candidate ${armText(candidate)}`;
  const failed = gates.filter((g) => g.status === "fail");
  if (failed.length > 0) {
    return {
      name,
      status: "fail",
      detail: `Breach beyond noise at ${current} %: ${failed.map(gateSentence).join("; ")}. ${arms}.`,
      gates,
      breach: true,
      reading,
    };
  }
  const undecided = gates.filter((g) => g.status === "inconclusive");
  if (undecided.length > 0) {
    const reason = undecided[0]?.reason ?? "the always-valid interval includes the limit";
    return {
      name,
      status: "hold",
      detail: `Hold at ${current} %: ${escapeUntrusted(reason)} (${undecided.map((g) => ident(g.name)).join(", ")}).${errorCeilingNote(gates)} ${arms}.`,
      gates,
      breach: false,
      reading,
    };
  }
  return {
    name,
    status: "pass",
    detail: `Gates pass at ${current} %: ${gates.map(gateSentence).join("; ")}. ${arms}.`,
    gates,
    breach: false,
    reading,
  };
}

/**
 * The eval proves only a coarse error ceiling; the fine one (`max_error_rate`) is proven here,
 * on the first phase's traffic, and promotion past the first phase needs it (decide.ts).
 */
function errorCeilingNote(gates: readonly ProductionGate[]): string {
  const error = gates.find((g) => g.name === "max_error_rate");
  if (!error || error.status === "pass") return "";
  return ` Promotion past the first phase needs the candidate's error rate shown below ${formatValue(error.threshold, "percent")} on this phase's traffic.`;
}

function armText(arm: ProductionArms["control"]): string {
  const rate = (k: number, of: number) => (of > 0 ? formatValue(k / of, "percent") : "n/a");
  return `${formatValue(arm.requests, "int")} requests, ${rate(arm.errors, arm.requests)} errors, ${formatValue(arm.tasks, "int")} tasks, ${rate(arm.completed, arm.tasks)} completed`;
}

/** One gate in words; a production gate also says the p-value its decision rests on. */
export function gateSentence(gate: GateResult | ProductionGate): string {
  const { unit, signed } = GATES[gate.name];
  const value = signed ? formatSigned(gate.value, unit) : formatValue(gate.value, unit);
  const interval = "p_breach" in gate ? "always-valid interval" : "95 % interval";
  return `${ident(gate.name)} ${gate.status} (${value}, ${interval} ${formatInterval(gate.ci95, unit, signed)}, limit ${formatValue(gate.threshold, unit)}${"p_breach" in gate ? pValues(gate) : ""})`;
}

/** The always-valid p-values next to the α each is compared with. */
export function pValues(gate: ProductionGate): string {
  if (gate.p_breach === null || gate.p_within === null) return "";
  return `, p breach ${formatP(gate.p_breach)} (fails ≤ ${ALPHA_BREACH}), p within ${formatP(gate.p_within)} (passes ≤ ${ALPHA_WITHIN})`;
}

export function notRequired(name: "production" | "rehearsal", target: number, first: number): Step {
  return {
    name,
    status: "not_required",
    detail:
      name === "production"
        ? `Not required for the first phase (${target} %${target === first ? "" : `, first is ${first} %`}); before the second phase, this phase's traffic must show the candidate's error rate below \`gates.max_error_rate\`.`
        : `Not required for the first phase (${target} %${target === first ? "" : `, first is ${first} %`}).`,
  };
}

/**
 * A gate or KPI name as text: our own identifiers (`max_error_rate`) as they are, since an
 * underscore inside a word is no emphasis in GitHub markdown; anything else escaped.
 */
export function ident(name: string): string {
  return /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/.test(name) ? name : escapeUntrusted(name);
}

/** A login as bold text that does not notify: `**@name**` with the mention defused. */
export function login(name: string): string {
  return `**${escapeUntrusted(`@${name}`)}**`;
}
