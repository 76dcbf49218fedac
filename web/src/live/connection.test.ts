import { describe, expect, it } from "vitest";
import { LiveConnection, type SocketLike } from "./connection";
import type { TopicMessage } from "./protocol";

/** A socket the test drives: what the page sent, and the server's side of the talk. */
class ScriptedSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

function harness() {
  const sockets: ScriptedSocket[] = [];
  const timers: (() => void)[] = [];
  const live = new LiveConnection({
    url: "ws://test/v1/ws",
    key: "ixk_test",
    connect: () => {
      const socket = new ScriptedSocket();
      sockets.push(socket);
      return socket;
    },
    backoffMs: () => 10,
    schedule: (callback) => timers.push(callback),
  });
  return { live, sockets, timers };
}

function event(position: string, cursor: string, n: number) {
  return { type: "event", topic: "alerts", stream: "ix:{p0}:alerts", position, cursor, event: { event_id: `e${n}`, type: "alert.triggered", key: "k", occurred_at: "", payload: { n } } };
}

describe("LiveConnection", () => {
  it("authenticates with the first message, never in the URL, then subscribes", () => {
    const { live, sockets } = harness();
    live.subscribe("alerts", () => undefined);
    const socket = sockets[0]!;
    socket.open();
    expect(socket.sent).toEqual([{ type: "auth", key: "ixk_test" }]);
    socket.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    expect(socket.sent[1]).toEqual({ type: "subscribe", topic: "alerts" });
    expect(live.status).toBe("open");
  });

  it("resumes after a drop from the last cursor: nothing lost, nothing twice", () => {
    const { live, sockets, timers } = harness();
    const seen: number[] = [];
    live.subscribe("alerts", (message: TopicMessage) => {
      if (message.type === "event") seen.push(message.event.payload.n as number);
    });
    const first = sockets[0]!;
    first.open();
    first.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    first.receive({ type: "subscribed", topic: "alerts", cursor: "c0" });
    first.receive(event("100-0", "c1", 1));
    first.receive(event("100-1", "c2", 2));
    first.drop();
    expect(live.status).toBe("reconnecting");
    timers.shift()!();
    const second = sockets[1]!;
    second.open();
    second.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    expect(second.sent[1]).toEqual({ type: "subscribe", topic: "alerts", cursor: "c2" });
    second.receive({ type: "subscribed", topic: "alerts", cursor: "c2" });
    second.receive(event("100-1", "c2", 2)); // a repeat is ignored
    second.receive(event("101-0", "c3", 3));
    expect(seen).toEqual([1, 2, 3]);
    expect(live.cursorOf("alerts")).toBe("c3");
  });

  it("takes a dropped message's cursor (4408, too slow) and resumes from it", () => {
    const { live, sockets, timers } = harness();
    live.subscribe("alerts", () => undefined);
    const first = sockets[0]!;
    first.open();
    first.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    first.receive({ type: "dropped", topic: "alerts", cursor: "c9" });
    first.drop(4408, "too slow");
    timers.shift()!();
    const second = sockets[1]!;
    second.open();
    second.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    expect(second.sent[1]).toEqual({ type: "subscribe", topic: "alerts", cursor: "c9" });
  });

  it("stops for good when the key is refused, saying why", () => {
    const { live, sockets, timers } = harness();
    live.subscribe("alerts", () => undefined);
    sockets[0]!.open();
    sockets[0]!.drop(4401, "invalid API key");
    expect(live.status).toBe("refused");
    expect(live.statusDetail).toBe("invalid API key");
    expect(timers).toHaveLength(0);
  });

  it("shares one subscription between views and unsubscribes after the last", () => {
    const { live, sockets } = harness();
    const stopA = live.subscribe("prices:BTC/USDT", () => undefined);
    const stopB = live.subscribe("prices:BTC/USDT", () => undefined);
    const socket = sockets[0]!;
    socket.open();
    socket.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    expect(socket.sent.filter((m) => m.type === "subscribe")).toHaveLength(1);
    stopA();
    expect(socket.sent.filter((m) => m.type === "unsubscribe")).toHaveLength(0);
    stopB();
    expect(socket.sent[socket.sent.length - 1]).toEqual({ type: "unsubscribe", topic: "prices:BTC/USDT" });
  });

  it("hands deltas and topic errors to the topic's listeners", () => {
    const { live, sockets } = harness();
    const got: TopicMessage[] = [];
    live.subscribe("conversation:c", (message) => got.push(message));
    const socket = sockets[0]!;
    socket.open();
    socket.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    socket.receive({ type: "delta", topic: "conversation:c", in_reply_to: "m1", message: "r1", seq: 1, text: "Hel" });
    socket.receive({ type: "error", topic: "conversation:c", detail: "no conversation c" });
    expect(got.map((m) => m.type)).toEqual(["delta", "error"]);
  });
});

/** A cursor as the server makes it: base64url of {stream: position}, unpadded. */
function cursorOf(positions: Record<string, string>): string {
  return btoa(JSON.stringify(positions)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

describe("a snapshot and the live feed meet with no gap", () => {
  it("tells each listener where its feed starts: the server's subscribed, or the cursor when it joins later", async () => {
    const { live, sockets } = harness();
    const first: TopicMessage[] = [];
    live.subscribe("alerts", (message) => first.push(message));
    const socket = sockets[0]!;
    socket.open();
    socket.receive({ type: "authenticated", user_id: "u", scopes: ["user"] });
    const start = cursorOf({ "ix:{p0}:alerts": "5-0" });
    socket.receive({ type: "subscribed", topic: "alerts", cursor: start });
    expect(first).toEqual([{ type: "subscribed", topic: "alerts", cursor: start }]);
    socket.receive(event("6-0", "c6", 6));
    const second: TopicMessage[] = [];
    live.subscribe("alerts", (message) => second.push(message));
    await Promise.resolve();
    expect(second).toEqual([{ type: "subscribed", topic: "alerts", cursor: "c6" }]);
    expect(socket.sent.filter((m) => m.type === "subscribe")).toHaveLength(1); // one subscription still
  });
});
