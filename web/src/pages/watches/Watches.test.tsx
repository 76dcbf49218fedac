import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SessionContext, type Session } from "../../auth/session";
import { Watches } from "./WatchesPage";

const WALLET = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function setup(receipt: Record<string, unknown>) {
  const get = vi.fn(async () => ({ wallets: [], accounts: [], keywords: [] }));
  const post = vi.fn(async () => ({ id: WALLET, position: "ix:p0:log@1-0", caught_up: true, ...receipt }));
  const session = { api: { get, post } } as unknown as Session;
  render(
    <QueryClientProvider client={new QueryClient()}>
      <SessionContext.Provider value={session}>
        <Watches />
      </SessionContext.Provider>
    </QueryClientProvider>,
  );
  return post;
}

async function watch(): Promise<void> {
  await userEvent.type(screen.getByLabelText("Watch a wallet (address)"), WALLET);
  const [add] = screen.getAllByRole("button", { name: "Add" });
  if (!add) throw new Error("no Add button");
  await userEvent.click(add);
}

describe("watching a wallet", () => {
  it("says what the watch waits for while no chain watcher runs", async () => {
    const detail = "No chain watcher runs: nothing about this wallet is recorded until one does.";
    const post = setup({ chain_watched: false, detail });
    await watch();
    expect(post).toHaveBeenCalledWith("/v1/watches/wallets", { address: WALLET });
    expect((await screen.findByTestId("wallet-note")).textContent).toBe(detail);
  });

  it("says nothing more when a chain is watched", async () => {
    setup({ chain_watched: true, detail: null });
    await watch();
    await screen.findByLabelText("Watch a wallet (address)");
    expect(screen.queryByTestId("wallet-note")).toBeNull();
  });
});
