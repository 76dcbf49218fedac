import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it, vi } from "vitest";
import { SessionContext, type Session } from "../auth/session";
import { LiveConnection, type SocketLike } from "./connection";
import { useFeedStart } from "./useTopic";

function connected() {
  const sockets: (SocketLike & { receive: (m: object) => void })[] = [];
  const live = new LiveConnection({
    url: "ws://test/v1/ws",
    key: "k",
    connect: () => {
      const socket = {
        readyState: 1,
        send: () => undefined,
        close: () => undefined,
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
        receive(message: object) {
          this.onmessage?.({ data: JSON.stringify(message) });
        },
      } as SocketLike & { receive: (m: object) => void };
      sockets.push(socket);
      return socket;
    },
    schedule: () => undefined,
  });
  const wrapper = ({ children }: { children: ReactNode }) => <SessionContext.Provider value={{ live } as unknown as Session}>{children}</SessionContext.Provider>;
  return { sockets, wrapper };
}

const cursor = (positions: Record<string, string>) => btoa(JSON.stringify(positions)).replace(/=+$/, "");

describe("where a view's feed starts", () => {
  it("is unknown until the subscription is confirmed, then the cursor to read a snapshot after", () => {
    const { sockets, wrapper } = connected();
    const { result } = renderHook(() => useFeedStart("prices:ETH/USDT"), { wrapper });
    expect(result.current).toBeNull();
    act(() => {
      sockets[0]!.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
      sockets[0]!.receive({ type: "subscribed", topic: "prices:ETH/USDT", cursor: cursor({ "ix:{p1}:ticks": "17-2" }) });
    });
    expect(result.current).toBe(cursor({ "ix:{p1}:ticks": "17-2" })); // passed on unread
  });

  it("gives up waiting for a live connection after a while: the snapshot is read all the same", () => {
    vi.useFakeTimers();
    try {
      const { wrapper } = connected();
      const { result } = renderHook(() => useFeedStart("alerts", 3_000), { wrapper });
      expect(result.current).toBeNull();
      act(() => vi.advanceTimersByTime(3_000));
      expect(result.current).toBe("");
    } finally {
      vi.useRealTimers();
    }
  });
});
