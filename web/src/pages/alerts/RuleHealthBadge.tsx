/** Whether a rule can fire now: a badge, and the API's sentence saying why (or what to fix). */
import { healthBadge } from "../../logic/ruleHealth";

export function RuleHealthBadge({ health, detail }: { health: string; detail: string }) {
  const badge = healthBadge(health);
  return (
    <p className={`rule-health health-${badge.tone}`} data-testid="rule-health">
      <span className="badge" title={health}>
        {badge.label}
      </span>{" "}
      <span className="health-detail">{detail}</span>
    </p>
  );
}
