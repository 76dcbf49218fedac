import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/problem";
import { SessionContext, type Session } from "../../auth/session";
import { DeleteAccount } from "./DeleteAccount";

function setup(remove: () => Promise<unknown>) {
  const signOut = vi.fn();
  const del = vi.fn(remove);
  const session = { api: { delete: del }, signOut } as unknown as Session;
  render(
    <SessionContext.Provider value={session}>
      <DeleteAccount />
    </SessionContext.Provider>,
  );
  return { del, signOut };
}

describe("deleting the account", () => {
  it("asks for the word, deletes, then signs out", async () => {
    const { del, signOut } = setup(async () => ({ id: "u", already_deleted: false }));
    await userEvent.click(screen.getByRole("button", { name: "Delete my account…" }));
    const confirm = screen.getByRole("button", { name: "Delete my account" });
    expect(confirm).toHaveProperty("disabled", true);
    await userEvent.type(screen.getByLabelText("Type delete to confirm"), "Delete");
    await userEvent.click(confirm);
    expect(del).toHaveBeenCalledWith("/v1/me");
    expect(signOut).toHaveBeenCalledOnce();
  });

  it("can be kept, and deletes nothing", async () => {
    const { del } = setup(async () => ({}));
    await userEvent.click(screen.getByRole("button", { name: "Delete my account…" }));
    await userEvent.click(screen.getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("form", { name: "Confirm the deletion" })).toBeNull();
    expect(del).not.toHaveBeenCalled();
  });

  it("shows the API's refusal and stays signed in", async () => {
    const refusal = new ApiError(503, "Service Unavailable", "Redis is unavailable right now; retry in 5s");
    const { signOut } = setup(async () => {
      throw refusal;
    });
    await userEvent.click(screen.getByRole("button", { name: "Delete my account…" }));
    await userEvent.type(screen.getByLabelText("Type delete to confirm"), "delete");
    await userEvent.click(screen.getByRole("button", { name: "Delete my account" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Redis is unavailable right now");
    expect(signOut).not.toHaveBeenCalled();
  });
});
