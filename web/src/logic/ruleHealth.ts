/**
 * A rule's health (`projections/rule_health.py`: whether it can fire now) as a badge
 * people read at a glance: a short label and a tone. The API's sentence
 * (`health_detail`) says the rest: what the rule waits for, or what to fix.
 */
import type { RulePublic } from "../api/types";

export type Health = RulePublic["health"];
export type Tone = "good" | "waiting" | "bad" | "idle";

const BADGES: Record<Health, { label: string; tone: Tone }> = {
  armed: { label: "Armed", tone: "good" },
  waiting_for_price: { label: "Waiting for a price", tone: "waiting" },
  no_source_for_symbol: { label: "No price source", tone: "bad" },
  source_stale: { label: "Prices stopped", tone: "bad" },
  no_chain_watcher: { label: "No chain watcher", tone: "bad" },
  channel_missing: { label: "A channel is missing", tone: "waiting" },
  invalid_threshold: { label: "Can never fire", tone: "bad" },
  paused: { label: "Paused", tone: "idle" },
  completed: { label: "Completed", tone: "idle" },
  expired: { label: "Expired", tone: "idle" },
  deleted: { label: "Deleted", tone: "idle" },
};

/** The badge of a health; one this page does not know yet is shown as the API says it. */
export function healthBadge(health: string): { label: string; tone: Tone } {
  return BADGES[health as Health] ?? { label: health.replaceAll("_", " "), tone: "waiting" };
}
