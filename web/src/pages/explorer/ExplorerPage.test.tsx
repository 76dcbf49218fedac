import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { SessionContext, type Session } from "../../auth/session";
import ExplorerPage from "./ExplorerPage";

const STREAMS = [
  { stream: "ix:p0:ticks", category: "ticks", partition: "p0", length: 3 },
  { stream: "ix:p0:alerts", category: "alerts", partition: "p0", length: 1 },
];
const TYPES = [
  { type: "price.tick", schema_version: 1, category: "ticks", description: "A price seen on a venue", fields: ["symbol", "price"] },
  { type: "alert.triggered", schema_version: 2, category: "alerts", description: "An alert fired", fields: ["rule_id"] },
];

function event(position: string) {
  return { stream: "ix:p0:ticks", position, type: "price.tick", key: "ETH/USDT", occurred_at: "2025-01-01T10:00:00Z", appended_at: "2025-01-01T10:00:00Z", payload: {}, event_id: position, correlation_id: "c1" };
}

/** The explorer against a fake API: events paged two at a time, in the order asked. */
function setup(url: string) {
  const all = ["1-0", "2-0", "3-0", "4-0", "5-0"];
  const get = vi.fn(async (path: string, query: Record<string, string | null> = {}) => {
    if (path === "/v1/admin/streams") return STREAMS;
    if (path === "/v1/admin/event-types") return TYPES;
    const ordered = query.direction === "asc" ? all : [...all].reverse();
    const from = query.cursor ? ordered.indexOf(query.cursor) : 0;
    const items = ordered.slice(from, from + 2);
    return { items: items.map(event), next_cursor: ordered[from + 2] ?? null };
  });
  const session = { api: { get }, isAdmin: true, canTrade: true } as unknown as Session;
  const seen: string[] = [];
  function Where() {
    const location = useLocation();
    seen.push(location.search);
    return null;
  }
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <SessionContext.Provider value={session}>
        <MemoryRouter initialEntries={[url]}>
          <Routes>
            <Route
              path="/explorer"
              element={
                <>
                  <ExplorerPage />
                  <Where />
                </>
              }
            />
          </Routes>
        </MemoryRouter>
      </SessionContext.Provider>
    </QueryClientProvider>,
  );
  return { get, search: () => new URLSearchParams(seen[seen.length - 1]) };
}

const rows = () => within(screen.getByTestId("events-table")).getAllByRole("row").slice(1);

describe("the streams explorer", () => {
  it("keeps the category chosen after the page opened when the filters are applied", async () => {
    const { search } = setup("/explorer");
    await userEvent.click(await screen.findByRole("button", { name: "ticks" }));
    await screen.findByRole("button", { name: "5-0" });
    await userEvent.selectOptions(await screen.findByLabelText("Type"), "price.tick");
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(search().get("type")).toBe("price.tick"));
    expect(search().get("category")).toBe("ticks");
    expect(screen.queryByText("Choose a category or a partition.")).toBeNull();
  });

  it("keeps a key chosen by 'only this key' when the filters are applied", async () => {
    const { search } = setup("/explorer?category=ticks");
    await userEvent.click(await screen.findByRole("button", { name: "5-0" }));
    await userEvent.click(screen.getByRole("button", { name: "only this key" }));
    await waitFor(() => expect(search().get("key")).toBe("ETH/USDT"));
    await userEvent.selectOptions(screen.getByLabelText("Order"), "asc");
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(search().get("direction")).toBe("asc"));
    expect(search().get("key")).toBe("ETH/USDT");
    expect(search().get("category")).toBe("ticks");
  });

  it("lists every event type with its description, fields and schema version; a click filters by it", async () => {
    const { search } = setup("/explorer?category=ticks");
    const table = await screen.findByTestId("event-types");
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(3));
    const alert = table.querySelector("tr[data-type='alert.triggered']") as HTMLElement;
    expect(alert.textContent).toContain("v2");
    expect(alert.textContent).toContain("An alert fired");
    expect(alert.textContent).toContain("rule_id");
    await userEvent.click(screen.getByRole("button", { name: "Filter by price.tick" }));
    await waitFor(() => expect(search().get("type")).toBe("price.tick"));
    expect(search().get("category")).toBe("ticks");
  });

  it("starts from the first page when the order changes", async () => {
    setup("/explorer?category=ticks");
    await screen.findByRole("button", { name: "5-0" });
    await userEvent.click(screen.getByRole("button", { name: "Next page" }));
    await screen.findByRole("button", { name: "3-0" });
    expect((screen.getByRole("button", { name: "Previous page" }) as HTMLButtonElement).disabled).toBe(false);
    await userEvent.selectOptions(screen.getByLabelText("Order"), "asc");
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    await screen.findByRole("button", { name: "1-0" });
    expect(rows().map((row) => within(row).getAllByRole("button")[0]?.textContent)).toEqual(["1-0", "2-0"]);
    expect((screen.getByRole("button", { name: "Previous page" }) as HTMLButtonElement).disabled).toBe(true);
  });
});
