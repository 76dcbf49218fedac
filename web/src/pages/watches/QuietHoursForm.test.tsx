import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { QuietHoursForm } from "./WatchesPage";

describe("the quiet-hours form", () => {
  it("starts from the saved hours, not 22:00 to 07:00", async () => {
    const onSave = vi.fn();
    render(<QuietHoursForm saved={{ start: "23:30", end: "06:15", timezone: "Europe/Paris" }} onSave={onSave} onClear={() => undefined} />);
    expect((screen.getByLabelText("From") as HTMLInputElement).value).toBe("23:30");
    expect((screen.getByLabelText("To") as HTMLInputElement).value).toBe("06:15");
    expect((screen.getByLabelText("Time zone") as HTMLInputElement).value).toBe("Europe/Paris");
    await userEvent.click(screen.getByRole("button", { name: "Set quiet hours" }));
    expect(onSave).toHaveBeenCalledWith({ start: "23:30", end: "06:15", timezone: "Europe/Paris" });
  });

  it("offers 22:00 to 07:00 when none are saved, and no Clear", () => {
    render(<QuietHoursForm saved={null} onSave={() => undefined} onClear={() => undefined} />);
    expect((screen.getByLabelText("From") as HTMLInputElement).value).toBe("22:00");
    expect(screen.queryByRole("button", { name: "Clear" })).toBeNull();
  });
});
