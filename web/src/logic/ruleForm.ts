/**
 * The alert rule form: its flat state, the RuleSpec it sends, and the errors it shows.
 *
 * The checks here mirror the API's schema for what a person gets wrong most (a symbol's
 * spelling, a number left empty, no channel); everything else is the API's to refuse,
 * and its 422 names the field, which `formFieldOf` maps onto the form's own fields.
 */
import type { RuleSpec } from "../api/types";

export type TargetKind = "symbol" | "posts" | "chain";
export const PRICE_CONDITIONS = ["above", "below", "crosses_up", "crosses_down", "percent_change", "absolute_move", "volume_spike"] as const;
export const CONDITIONS: Record<TargetKind, readonly string[]> = {
  symbol: PRICE_CONDITIONS,
  posts: ["mentioned"],
  chain: ["transferred"],
};
export const FREQUENCIES = ["once", "every_time", "at_most_once_per"] as const;
export const SEVERITIES = ["info", "warning", "critical"] as const;

export interface RuleForm {
  name: string;
  targetKind: TargetKind;
  symbol: string;
  venue: string;
  keyword: string;
  account: string;
  contract: string;
  event: string;
  wallet: string;
  condition: string;
  threshold: string;
  percent: string;
  amount: string;
  multiple: string;
  windowS: string;
  direction: "up" | "down" | "either";
  minEngagement: string;
  minAmount: string;
  frequency: (typeof FREQUENCIES)[number];
  cooldownS: string;
  intervalS: string;
  severity: (typeof SEVERITIES)[number];
  channels: string[];
  messageTemplate: string;
  expiresAt: string;
}

export const EMPTY_FORM: RuleForm = {
  name: "",
  targetKind: "symbol",
  symbol: "BTC/USDT",
  venue: "",
  keyword: "",
  account: "",
  contract: "",
  event: "",
  wallet: "",
  condition: "crosses_up",
  threshold: "",
  percent: "",
  amount: "",
  multiple: "",
  windowS: "60",
  direction: "either",
  minEngagement: "0",
  minAmount: "0",
  frequency: "every_time",
  cooldownS: "60",
  intervalS: "3600",
  severity: "warning",
  channels: ["web"],
  messageTemplate: "",
  expiresAt: "",
};

const SYMBOL = /^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/;

export type FormErrors = Partial<Record<string, string>>;

function number(value: string, field: string, errors: FormErrors, { positive = false, integer = false } = {}): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) errors[field] = "a number is required";
  else if (integer && !Number.isInteger(parsed)) errors[field] = "a whole number is required";
  else if (positive && parsed <= 0) errors[field] = "must be greater than 0";
  return parsed;
}

function optional(value: string): string | null {
  return value.trim() === "" ? null : value.trim();
}

/** The RuleSpec of a form, and the errors that stop it from being sent. */
export function specOf(form: RuleForm): { spec: RuleSpec | null; errors: FormErrors } {
  const errors: FormErrors = {};
  let target: RuleSpec["target"];
  if (form.targetKind === "symbol") {
    const symbol = form.symbol.trim().toUpperCase().replace("-", "/");
    if (!SYMBOL.test(symbol)) errors["target.symbol"] = "BASE/QUOTE in capitals, e.g. BTC/USDT";
    target = { kind: "symbol", symbol, venue: optional(form.venue) };
  } else if (form.targetKind === "posts") {
    if (!form.keyword.trim() && !form.account.trim()) errors["target.keyword"] = "give a keyword or an account";
    target = { kind: "posts", keyword: optional(form.keyword), account: optional(form.account) };
  } else {
    if (!form.contract.trim() && !form.wallet.trim()) errors["target.contract"] = "give a contract or a wallet";
    target = { kind: "chain", contract: optional(form.contract), event: optional(form.event), wallet: optional(form.wallet) };
  }
  if (!CONDITIONS[form.targetKind].includes(form.condition)) errors.condition = `not a condition of a ${form.targetKind} rule`;
  const condition = conditionOf(form, errors);
  let frequency: RuleSpec["frequency"];
  if (form.frequency === "once") frequency = { kind: "once" };
  else if (form.frequency === "every_time")
    frequency = { kind: "every_time", cooldown_s: number(form.cooldownS, "frequency.cooldown_s", errors, { integer: true }) };
  else
    frequency = {
      kind: "at_most_once_per",
      interval_s: number(form.intervalS, "frequency.interval_s", errors, { positive: true, integer: true }),
    };
  if (form.channels.length === 0) errors.channels = "choose at least one channel";
  if (form.name.length > 80) errors.name = "at most 80 characters";
  let expires: string | null = null;
  if (form.expiresAt) {
    const moment = new Date(form.expiresAt);
    if (Number.isNaN(moment.getTime())) errors.expires_at = "not a date and time";
    else expires = moment.toISOString();
  }
  if (Object.keys(errors).length > 0) return { spec: null, errors };
  const spec = {
    name: form.name,
    target,
    condition,
    frequency,
    severity: form.severity,
    channels: form.channels,
    message_template: optional(form.messageTemplate),
    expires_at: expires,
  } as RuleSpec;
  return { spec, errors };
}

function conditionOf(form: RuleForm, errors: FormErrors): RuleSpec["condition"] {
  const type = form.condition;
  const field = (name: string) => `condition.${name}`;
  switch (type) {
    case "above":
    case "below":
    case "crosses_up":
    case "crosses_down":
      return { type, threshold: number(form.threshold, field("threshold"), errors) } as RuleSpec["condition"];
    case "percent_change":
      return {
        type,
        percent: number(form.percent, field("percent"), errors, { positive: true }),
        window_s: number(form.windowS, field("window_s"), errors, { positive: true, integer: true }),
        direction: form.direction,
      };
    case "absolute_move":
      return {
        type,
        amount: number(form.amount, field("amount"), errors, { positive: true }),
        window_s: number(form.windowS, field("window_s"), errors, { positive: true, integer: true }),
        direction: form.direction,
      };
    case "volume_spike":
      return {
        type,
        multiple: number(form.multiple, field("multiple"), errors, { positive: true }),
        window_s: number(form.windowS, field("window_s"), errors, { positive: true, integer: true }),
      };
    case "mentioned":
      return { type, min_engagement: number(form.minEngagement, field("min_engagement"), errors, { integer: true }) };
    default:
      return { type: "transferred", min_amount: number(form.minAmount, field("min_amount"), errors) };
  }
}

/** A form for editing a rule: the fields of its spec, the rest at their defaults. */
export function formOf(spec: RuleSpec): RuleForm {
  const form: RuleForm = { ...EMPTY_FORM, name: spec.name ?? "", channels: [...spec.channels] };
  const target = spec.target as Record<string, unknown>;
  form.targetKind = target.kind as TargetKind;
  const text = (value: unknown) => (value === null || value === undefined ? "" : String(value));
  form.symbol = text(target.symbol);
  form.venue = text(target.venue);
  form.keyword = text(target.keyword);
  form.account = text(target.account);
  form.contract = text(target.contract);
  form.event = text(target.event);
  form.wallet = text(target.wallet);
  const condition = spec.condition as Record<string, unknown>;
  form.condition = String(condition.type);
  form.threshold = text(condition.threshold);
  form.percent = text(condition.percent);
  form.amount = text(condition.amount);
  form.multiple = text(condition.multiple);
  form.windowS = text(condition.window_s) || EMPTY_FORM.windowS;
  form.direction = (condition.direction as RuleForm["direction"]) ?? "either";
  form.minEngagement = text(condition.min_engagement) || "0";
  form.minAmount = text(condition.min_amount) || "0";
  const frequency = (spec.frequency ?? { kind: "every_time" }) as Record<string, unknown>;
  form.frequency = frequency.kind as RuleForm["frequency"];
  form.cooldownS = text(frequency.cooldown_s) || EMPTY_FORM.cooldownS;
  form.intervalS = text(frequency.interval_s) || EMPTY_FORM.intervalS;
  form.severity = (spec.severity ?? "warning") as RuleForm["severity"];
  form.messageTemplate = text(spec.message_template);
  form.expiresAt = spec.expires_at ? spec.expires_at.slice(0, 16) : "";
  return form;
}

const TAGS = new Set<string>([...PRICE_CONDITIONS, "mentioned", "transferred", "symbol", "posts", "chain", ...FREQUENCIES]);

/**
 * The form field an API error names: "body.condition.crosses_up.threshold" (pydantic
 * names the union member it tried) is the form's "condition.threshold".
 */
export function formFieldOf(apiField: string): string {
  const parts = apiField.replace(/^body\./, "").split(".");
  if (parts.length > 2 && ["target", "condition", "frequency"].includes(parts[0] ?? "") && TAGS.has(parts[1] ?? "")) {
    parts.splice(1, 1);
  }
  return parts.join(".");
}
