import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { problemOf } from "../../api/problem";
import { ExtraFields } from "../../components/common";
import { RuleFormView } from "./RuleFormView";

describe("the rule form", () => {
  it("refuses a rule without a threshold next to its field, sending nothing", async () => {
    const onSubmit = vi.fn();
    render(<RuleFormView channels={["web"]} submitLabel="Create rule" onSubmit={onSubmit} />);
    await userEvent.click(screen.getByRole("button", { name: "Create rule" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Threshold").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toBe("a number is required");
  });

  it("shows the API's refusal by the field it names, and its message", async () => {
    const refusal = problemOf(422, {
      title: "Invalid request",
      detail: "body.condition.crosses_up.threshold: Input should be a finite number",
      errors: [{ field: "body.condition.crosses_up.threshold", message: "Input should be a finite number" }],
    });
    const onSubmit = vi.fn().mockRejectedValue(refusal);
    render(<RuleFormView channels={["web"]} submitLabel="Create rule" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText("Threshold"), "4000");
    await userEvent.click(screen.getByRole("button", { name: "Create rule" }));
    expect(onSubmit).toHaveBeenCalledOnce();
    expect(screen.getByLabelText("Threshold").getAttribute("aria-invalid")).toBe("true");
    const alerts = screen.getAllByRole("alert").map((node) => node.textContent);
    expect(alerts).toContain("Input should be a finite number");
    expect(alerts).toContain("body.condition.crosses_up.threshold: Input should be a finite number (422 Invalid request)");
  });
});

describe("fields the page does not know", () => {
  it("are shown, not dropped", () => {
    render(<ExtraFields record={{ id: "r1", status: "active", health: { state: "quiet", since: "1h" } }} known={["id", "status"]} />);
    expect(screen.getByText("health")).toBeTruthy();
    expect(screen.getByText(/"state": "quiet"/)).toBeTruthy();
    expect(screen.queryByText("status")).toBeNull();
  });
});
