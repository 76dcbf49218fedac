/** The rule form: create or edit. Errors appear by their field, the client's or the API's. */
import { useState, type FormEvent, type ReactNode } from "react";
import { ApiError } from "../../api/problem";
import type { RuleSpec } from "../../api/types";
import { ErrorNote } from "../../components/common";
import { CONDITIONS, EMPTY_FORM, formFieldOf, FREQUENCIES, SEVERITIES, specOf, type FormErrors, type RuleForm, type TargetKind } from "../../logic/ruleForm";

interface Props {
  initial?: RuleForm;
  channels: string[];
  submitLabel: string;
  onSubmit: (spec: RuleSpec) => Promise<unknown>;
  onCancel?: () => void;
}

const LABELS: Record<string, string> = {
  above: "price above",
  below: "price below",
  crosses_up: "crosses up through",
  crosses_down: "crosses down through",
  percent_change: "moves by a percentage within a window",
  absolute_move: "moves by an amount within a window",
  volume_spike: "volume spike",
  mentioned: "is mentioned",
  transferred: "transfer",
  once: "once, then done",
  every_time: "every time (with a cooldown)",
  at_most_once_per: "at most once per interval",
};

export function RuleFormView({ initial = EMPTY_FORM, channels, submitLabel, onSubmit, onCancel }: Props) {
  const [form, setForm] = useState<RuleForm>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof RuleForm>(name: K, value: RuleForm[K]) => setForm((current) => ({ ...current, [name]: value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { spec, errors: found } = specOf(form);
    setErrors(found);
    setFailure(null);
    if (!spec) return;
    setBusy(true);
    try {
      await onSubmit(spec);
    } catch (error) {
      setFailure(error);
      if (error instanceof ApiError) {
        const byField: FormErrors = {};
        for (const item of error.errors) byField[formFieldOf(item.field)] ??= item.message;
        setErrors(byField);
      }
    } finally {
      setBusy(false);
    }
  }

  const field = (name: string, label: string, input: ReactNode) => (
    <div className={`field ${errors[name] ? "invalid" : ""}`}>
      <label htmlFor={`rule-${name}`}>{label}</label>
      {input}
      {errors[name] && (
        <span className="field-error" id={`rule-${name}-error`} role="alert">
          {errors[name]}
        </span>
      )}
    </div>
  );
  const described = (name: string) => (errors[name] ? { "aria-invalid": true, "aria-describedby": `rule-${name}-error` } : {});
  const text = (name: string, key: keyof RuleForm, label: string, extra: Record<string, unknown> = {}) =>
    field(
      name,
      label,
      <input id={`rule-${name}`} value={form[key] as string} onChange={(event) => set(key, event.target.value as never)} {...described(name)} {...extra} />,
    );
  const numeric = (name: string, key: keyof RuleForm, label: string) => text(name, key, label, { inputMode: "decimal" });
  const condition = form.condition;

  return (
    <form className="rule-form" onSubmit={submit} noValidate aria-label="Alert rule">
      {text("name", "name", "Name")}
      {field(
        "target.kind",
        "Watch",
        <select
          id="rule-target.kind"
          value={form.targetKind}
          onChange={(event) => {
            const kind = event.target.value as TargetKind;
            setForm((current) => ({ ...current, targetKind: kind, condition: CONDITIONS[kind][0] ?? "" }));
          }}
        >
          <option value="symbol">a price</option>
          <option value="posts">posts</option>
          <option value="chain">on-chain transfers</option>
        </select>,
      )}
      {form.targetKind === "symbol" && (
        <>
          {text("target.symbol", "symbol", "Symbol (BASE/QUOTE)")}
          {text("target.venue", "venue", "Venue (empty: any)")}
        </>
      )}
      {form.targetKind === "posts" && (
        <>
          {text("target.keyword", "keyword", "Keyword")}
          {text("target.account", "account", "Account (@handle)")}
        </>
      )}
      {form.targetKind === "chain" && (
        <>
          {text("target.contract", "contract", "Contract address")}
          {text("target.event", "event", "Event name")}
          {text("target.wallet", "wallet", "Wallet address")}
        </>
      )}
      {field(
        "condition",
        "When it",
        <select id="rule-condition" value={condition} onChange={(event) => set("condition", event.target.value)} {...described("condition")}>
          {CONDITIONS[form.targetKind].map((name) => (
            <option key={name} value={name}>
              {LABELS[name] ?? name}
            </option>
          ))}
        </select>,
      )}
      {["above", "below", "crosses_up", "crosses_down"].includes(condition) && numeric("condition.threshold", "threshold", "Threshold")}
      {condition === "percent_change" && numeric("condition.percent", "percent", "Percent")}
      {condition === "absolute_move" && numeric("condition.amount", "amount", "Amount")}
      {condition === "volume_spike" && numeric("condition.multiple", "multiple", "Multiple of the average volume")}
      {["percent_change", "absolute_move", "volume_spike"].includes(condition) && numeric("condition.window_s", "windowS", "Window (seconds)")}
      {["percent_change", "absolute_move"].includes(condition) &&
        field(
          "condition.direction",
          "Direction",
          <select id="rule-condition.direction" value={form.direction} onChange={(event) => set("direction", event.target.value as RuleForm["direction"])}>
            <option value="either">either way</option>
            <option value="up">up</option>
            <option value="down">down</option>
          </select>,
        )}
      {condition === "mentioned" && numeric("condition.min_engagement", "minEngagement", "Minimum engagement")}
      {condition === "transferred" && numeric("condition.min_amount", "minAmount", "Minimum amount")}
      {field(
        "frequency",
        "How often",
        <select id="rule-frequency" value={form.frequency} onChange={(event) => set("frequency", event.target.value as RuleForm["frequency"])}>
          {FREQUENCIES.map((name) => (
            <option key={name} value={name}>
              {LABELS[name]}
            </option>
          ))}
        </select>,
      )}
      {form.frequency === "every_time" && numeric("frequency.cooldown_s", "cooldownS", "Cooldown (seconds)")}
      {form.frequency === "at_most_once_per" && numeric("frequency.interval_s", "intervalS", "Interval (seconds)")}
      {field(
        "severity",
        "Severity",
        <select id="rule-severity" value={form.severity} onChange={(event) => set("severity", event.target.value as RuleForm["severity"])}>
          {SEVERITIES.map((name) => (
            <option key={name}>{name}</option>
          ))}
        </select>,
      )}
      <fieldset className={`field ${errors.channels ? "invalid" : ""}`}>
        <legend>Deliver to</legend>
        {channels.map((channel) => (
          <label key={channel} className="check">
            <input
              type="checkbox"
              checked={form.channels.includes(channel)}
              onChange={(event) => set("channels", event.target.checked ? [...form.channels, channel] : form.channels.filter((c) => c !== channel))}
            />
            {channel}
          </label>
        ))}
        {errors.channels && (
          <span className="field-error" role="alert">
            {errors.channels}
          </span>
        )}
      </fieldset>
      {text("message_template", "messageTemplate", "Message (optional; {symbol}, {price}, {threshold}…)")}
      {text("expires_at", "expiresAt", "Expires (optional)", { type: "datetime-local" })}
      <ErrorNote error={failure} />
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
