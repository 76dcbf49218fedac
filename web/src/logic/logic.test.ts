import { describe, expect, it } from "vitest";
import { ApiError, fieldErrors, messageOf, problemOf } from "../api/problem";
import type { MessagePublic } from "../api/types";
import { chartVenue, foldTick, fromReadModel, isHistorical, venuesOf, type Candle } from "./candles";
import { describeOutcome, OUTCOME_WAIT_MS, outcomeOfEvent, outcomeOfNotifications } from "./channelTest";
import { ancestry, timeline } from "./chain";
import { addPiece, awaitsConfirmation, toolLabel, awaitsReply, laterPosition, streamedText, withoutAnswered } from "./chat";
import { isoOfUtcInput, utcInputOf } from "./utcTime";
import { EMPTY_FORM, formFieldOf, formOf, specOf } from "./ruleForm";

describe("candles", () => {
  it("fold ticks by the venue's minute: first opens, last closes", () => {
    const candles: Candle[] = fromReadModel([{ minute: "2026-01-01T10:00:00Z", open: 10, high: 12, low: 9, close: 11, volume: 1 }]);
    foldTick(candles, { price: 13, volume: 2, source_time: "2026-01-01T10:00:30Z" });
    foldTick(candles, { price: 8, source_time: "2026-01-01T10:00:59Z" });
    foldTick(candles, { price: 9.5, volume: 1, source_time: "2026-01-01T10:01:05Z" });
    expect(candles).toEqual([
      { time: 1767261600, open: 10, high: 13, low: 8, close: 8, volume: 3 },
      { time: 1767261660, open: 9.5, high: 9.5, low: 9.5, close: 9.5, volume: 1 },
    ]);
  });

  it("a late tick of a minute not shown changes nothing", () => {
    const candles: Candle[] = [{ time: 1767261660, open: 1, high: 1, low: 1, close: 1, volume: 0 }];
    expect(foldTick(candles, { price: 5, source_time: "2026-01-01T09:00:00Z" })).toBeNull();
    expect(candles).toHaveLength(1);
  });

  it("a late tick of a minute shown changes that candle, which the chart takes as historical", () => {
    const candles: Candle[] = fromReadModel([
      { minute: "2026-01-01T10:00:00Z", open: 10, high: 12, low: 9, close: 11, volume: 1 },
      { minute: "2026-01-01T10:01:00Z", open: 11, high: 11, low: 11, close: 11, volume: 1 },
    ]);
    const late = foldTick(candles, { price: 20, volume: 1, source_time: "2026-01-01T10:00:40Z" });
    expect(late).toEqual({ time: 1767261600, open: 10, high: 20, low: 9, close: 20, volume: 2 });
    expect(isHistorical(candles, late as Candle)).toBe(true);
    const current = foldTick(candles, { price: 12, source_time: "2026-01-01T10:01:10Z" });
    expect(isHistorical(candles, current as Candle)).toBe(false);
    const opened = foldTick(candles, { price: 13, source_time: "2026-01-01T10:02:00Z" });
    expect(isHistorical(candles, opened as Candle)).toBe(false);
  });
});

describe("the chart's venue", () => {
  const rows = [
    { symbol: "BTC/USDT", venue: "simulator" },
    { symbol: "BTC/USDT", venue: "manual" },
    { symbol: "ETH/USDT", venue: "binance" },
  ];

  it("is one of the venues quoting the symbol", () => {
    expect(venuesOf(rows, "BTC/USDT")).toEqual(["manual", "simulator"]);
    expect(chartVenue(venuesOf(rows, "BTC/USDT"), "simulator")).toBe("simulator");
  });

  it("falls back to the first when the one asked for does not quote it", () => {
    expect(chartVenue(venuesOf(rows, "ETH/USDT"), "simulator")).toBe("binance");
    expect(chartVenue([], null)).toBeNull();
  });
});

describe("causal chains", () => {
  const tick = { event_id: "t", causation_id: "t", type: "price.tick", stream: "ix:{p0}:ticks", position: "1-0" };
  const alert = { event_id: "a", causation_id: "t", type: "alert.triggered", stream: "ix:{p0}:alerts", position: "2-0" };
  const sent = { event_id: "n", causation_id: "a", type: "notification.sent", stream: "ix:{p0}:notifications", position: "3-0" };
  const other = { event_id: "x", causation_id: "gone", type: "alert.triggered", stream: "ix:{p1}:alerts", position: "2-5" };

  it("are a timeline of each event under its cause; lost causes become roots", () => {
    const rows = timeline([tick, alert, other, sent]);
    expect(rows.map((row) => [row.event.event_id, row.depth])).toEqual([
      ["t", 0],
      ["a", 1],
      ["n", 2],
      ["x", 0],
    ]);
  });

  it("lead from a notification back to its tick", () => {
    expect(ancestry([tick, alert, sent], "n").map((e) => e.type)).toEqual(["price.tick", "alert.triggered", "notification.sent"]);
  });
});

describe("the rule form", () => {
  it("builds the spec the API takes", () => {
    const { spec, errors } = specOf({ ...EMPTY_FORM, name: "ETH 4k", symbol: "eth-usdt", threshold: "4000", channels: ["web", "hook"] });
    expect(errors).toEqual({});
    expect(spec).toMatchObject({
      name: "ETH 4k",
      target: { kind: "symbol", symbol: "ETH/USDT", venue: null },
      condition: { type: "crosses_up", threshold: 4000 },
      frequency: { kind: "every_time", cooldown_s: 60 },
      channels: ["web", "hook"],
    });
  });

  it("names the fields a person got wrong, as the API would", () => {
    const { spec, errors } = specOf({ ...EMPTY_FORM, symbol: "bitcoin", threshold: "", channels: [] });
    expect(spec).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(["channels", "condition.threshold", "target.symbol"]);
  });

  it("maps the API's field paths onto the form's", () => {
    expect(formFieldOf("body.condition.crosses_up.threshold")).toBe("condition.threshold");
    expect(formFieldOf("body.target.symbol.symbol")).toBe("target.symbol");
    expect(formFieldOf("body.channels")).toBe("channels");
    expect(formFieldOf("name")).toBe("name");
  });

  it("edits a rule from its spec and back", () => {
    const { spec } = specOf({ ...EMPTY_FORM, condition: "percent_change", percent: "2.5", windowS: "300", direction: "up" });
    const again = specOf(formOf(spec!));
    expect(again.spec).toEqual(spec);
  });
});

describe("problems", () => {
  it("read problem+json into the message people see", () => {
    const error = problemOf(422, { title: "Invalid request", detail: "body.channels: too short", errors: [{ field: "body.channels", message: "too short" }] });
    expect(error).toBeInstanceOf(ApiError);
    expect(messageOf(error)).toBe("body.channels: too short (422 Invalid request)");
    expect(fieldErrors(error)).toEqual({ channels: "too short" });
  });

  it("keep a non-JSON body's text and a Retry-After", () => {
    const error = problemOf(429, "slow down", "7");
    expect(error.detail).toBe("slow down");
    expect(error.retryAfterS).toBe(7);
  });
});

function message(role: MessagePublic["role"], id: string, extra: Partial<MessagePublic> = {}): MessagePublic {
  return { id, conversation_id: "c", seq: 0, role, message_id: id, in_reply_to: null, tool: null, text: "", error: false, at: "", ...extra };
}

describe("the explorer's time filter", () => {
  it("reads and writes the input's text as UTC, both ways", () => {
    expect(utcInputOf("2026-01-01T10:00:00.000Z")).toBe("2026-01-01T10:00:00");
    expect(utcInputOf("2026-01-01T12:00:00+02:00")).toBe("2026-01-01T10:00:00");
    expect(isoOfUtcInput("2026-01-01T10:00:00")).toBe("2026-01-01T10:00:00.000Z");
    expect(isoOfUtcInput("2026-01-01T10:00")).toBe("2026-01-01T10:00:00.000Z");
    expect(isoOfUtcInput(utcInputOf("2026-03-29T01:30:00Z"))).toBe("2026-03-29T01:30:00.000Z");
    expect(isoOfUtcInput("")).toBe("");
  });
});

describe("the chat", () => {
  it("names a tool result after its call, with the start of what it said", () => {
    const base = { at: "", conversation_id: "c", error: false, in_reply_to: null, message_id: "", seq: 0, text: "" };
    const thread = [
      { ...base, id: "1", role: "user" as const, text: "price of ETH", tool: null },
      { ...base, id: "2", role: "tool_call" as const, text: "{}", tool: "get_price" },
      { ...base, id: "3", role: "tool_result" as const, text: "ETH/USDT 3,412.5 on binance\n(simulated)", tool: null },
      { ...base, id: "4", role: "tool_result" as const, text: "x".repeat(100), tool: "list_alerts", error: true },
    ];
    expect(toolLabel(thread, 1)).toBe("get_price");
    expect(toolLabel(thread, 2)).toBe("result of get_price: ETH/USDT 3,412.5 on binance (simulated)");
    expect(toolLabel(thread, 3)).toBe(`result of list_alerts (failed): ${"x".repeat(59)}…`);
  });

  it("rebuilds a streamed reply by piece number, whatever the order", () => {
    let streaming = addPiece(new Map(), "m1", 2, "lo");
    streaming = addPiece(streaming, "m1", 1, "Hel");
    streaming = addPiece(streaming, "m1", 2, "lo");
    expect(streamedText(streaming.get("m1")!)).toBe("Hello");
    expect(withoutAnswered(streaming, [message("agent", "r1", { in_reply_to: "m1" })]).size).toBe(0);
  });

  it("offers confirmation buttons only while a call waits for a yes", () => {
    const asked = [message("user", "m1"), message("tool_call", "call1", { tool: "delete_rule" }), message("agent", "r1")];
    expect(awaitsConfirmation(asked)).toBe(true);
    expect(awaitsConfirmation([...asked, message("user", "m2")])).toBe(false);
    const done = [message("user", "m1"), message("tool_call", "call1"), message("tool_result", "call1"), message("agent", "r1")];
    expect(awaitsConfirmation(done)).toBe(false);
  });

  it("waits for the reply to the last message, not for the last entry to be a user's", () => {
    const call = message("tool_call", "call1", { tool: "get_price", in_reply_to: "m1" });
    const result = message("tool_result", "call1");
    // a read between the turn's documents: the call and its result, not yet the reply
    expect(awaitsReply([message("user", "m1"), call, result])).toBe(true);
    expect(awaitsReply([message("user", "m1"), call, result, message("agent", "r1", { in_reply_to: "m1" })])).toBe(false);
    expect(awaitsReply([message("user", "m1"), message("agent", "r1", { in_reply_to: "m1" }), message("user", "m2")])).toBe(true);
    expect(awaitsReply([])).toBe(false);
  });

  it("never reads from an earlier position than one it has", () => {
    const log = "ix:{app.conversations}:log";
    expect(laterPosition(null, `${log}@5-2`)).toBe(`${log}@5-2`);
    expect(laterPosition(`${log}@7-4`, `${log}@5-2`)).toBe(`${log}@7-4`);
    expect(laterPosition(`${log}@5-2`, `${log}@5-3`)).toBe(`${log}@5-3`);
    expect(laterPosition(`${log}@7-4`, "ix:{p0}:other@1-0")).toBe("ix:{p0}:other@1-0");
  });
});

describe("channel tests", () => {
  const event = (type: string, payload: Record<string, unknown>) => ({ event_id: "n1", type, key: "u", occurred_at: "", payload });

  it("take their outcome from the notification naming the test", () => {
    expect(outcomeOfEvent(event("notification.sent", { subject_event_id: "t1", response: "HTTP 204" }), "t1")).toEqual({ status: "sent", detail: "HTTP 204" });
    expect(outcomeOfEvent(event("notification.failed", { subject_event_id: "t1", error: "webhook: HTTP 404 (refused)" }), "t1")).toEqual({
      status: "failed",
      detail: "webhook: HTTP 404 (refused)",
    });
    expect(outcomeOfEvent(event("notification.sent", { subject_event_id: "an-alert" }), "t1")).toBeNull();
  });

  it("read the same outcome from the read model", () => {
    const failed = { id: "n1", user_id: "u", channel_id: "hook", channel_kind: "webhook", status: "failed", title: "", text: "", response: null, error: "webhook: HTTP 503 (the receiver failed; retried) (after 3 attempts)", attempts: 3, at: "", subject_event_id: "t1" } as const;
    expect(outcomeOfNotifications([failed])).toEqual({ status: "failed", detail: failed.error });
    expect(outcomeOfNotifications([])).toBeNull();
  });

  it("say what happened in one sentence, and when nothing did", () => {
    expect(describeOutcome({ status: "sent", detail: "HTTP 204" }, 0)).toBe("Delivered (HTTP 204).");
    expect(describeOutcome({ status: "failed", detail: "channel removed" }, 0)).toBe("Failed: channel removed");
    expect(describeOutcome(null, 1_000)).toBe("Sending…");
    expect(describeOutcome(null, OUTCOME_WAIT_MS)).toMatch(/notify worker/);
  });
});
