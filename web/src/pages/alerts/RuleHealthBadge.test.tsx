import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { healthBadge } from "../../logic/ruleHealth";
import { RuleHealthBadge } from "./RuleHealthBadge";

describe("a rule's health", () => {
  it("reads as a badge and the API's sentence, not as raw fields", () => {
    const detail = "No running price source reports BTC/USDT on manual yet: it will not fire until one does.";
    render(<RuleHealthBadge health="no_source_for_symbol" detail={detail} />);
    const shown = screen.getByTestId("rule-health");
    expect(shown.textContent).toBe(`No price source ${detail}`);
    expect(shown.className).toContain("health-bad");
    expect(shown.textContent).not.toContain("no_source_for_symbol");
  });

  it("has a label and a tone for every state the API names", () => {
    const states = ["armed", "waiting_for_price", "no_source_for_symbol", "source_stale", "no_chain_watcher", "channel_missing", "invalid_threshold"];
    const labels = states.map((state) => healthBadge(state).label);
    expect(new Set(labels).size).toBe(states.length);
    expect(labels.some((label) => label.includes("_"))).toBe(false);
    expect(healthBadge("armed").tone).toBe("good");
    expect(healthBadge("waiting_for_price").tone).toBe("waiting");
    expect(healthBadge("invalid_threshold")).toEqual({ label: "Can never fire", tone: "bad" });
    expect(healthBadge("paused").tone).toBe("idle");
  });

  it("shows a state it does not know yet in words", () => {
    expect(healthBadge("some_new_state")).toEqual({ label: "some new state", tone: "waiting" });
  });
});
