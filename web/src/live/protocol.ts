/** The live protocol's messages (README "Live events over WebSocket"). */
import type { EventOut } from "../api/types";

/** An event as the live protocol sends it (the store's envelope, payload decoded). */
export interface LiveEvent {
  event_id: string;
  type: string;
  schema_version?: number;
  key: string | null;
  version?: number | null;
  occurred_at: string;
  causation_id?: string | null;
  correlation_id?: string | null;
  payload: Record<string, unknown>;
}

export interface EventMessage {
  type: "event";
  topic: string;
  stream: string;
  position: string;
  cursor: string;
  event: LiveEvent;
}

export interface DeltaMessage {
  type: "delta";
  topic: string;
  in_reply_to: string;
  message: string;
  seq: number;
  text: string;
}

export type ServerMessage =
  | { type: "authenticated"; user_id: string; scopes: string[] }
  | { type: "subscribed"; topic: string; cursor: string }
  | { type: "unsubscribed"; topic: string; cursor: string }
  | { type: "error"; detail: string; topic?: string }
  | { type: "dropped"; topic: string; cursor: string; detail?: string }
  | EventMessage
  | DeltaMessage;

/**
 * Where a listener's live feed starts: the server's `subscribed` (the cursor holds, per
 * stream, the position after which every event is sent), or for a listener joining a
 * topic already followed, the topic's cursor as of that moment. A page reads its REST
 * snapshot after this (up to these positions) so that nothing falls between the two.
 */
export interface SubscribedMessage {
  type: "subscribed";
  topic: string;
  cursor: string;
}

/** What a page's listener receives for its topic. */
export type TopicMessage = EventMessage | DeltaMessage | SubscribedMessage | { type: "error"; detail: string; topic?: string };

/** The per-stream positions a cursor holds (base64url of a JSON object), or null if unreadable. */
export function cursorPositions(cursor: string): Record<string, string> | null {
  try {
    const base64 = cursor.replace(/-/g, "+").replace(/_/g, "/");
    const parsed: unknown = JSON.parse(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)));
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    const entries = Object.entries(parsed as Record<string, unknown>);
    if (!entries.every(([, value]) => typeof value === "string" && /^[0-9]+(-[0-9]+)?$/.test(value))) return null;
    return Object.fromEntries(entries) as Record<string, string>;
  } catch {
    return null;
  }
}

/** The API's limit on `after` marks per read. */
export const MAX_AFTER = 16;

/**
 * The `after` marks (`<stream>@<position>`) for a REST read that must hold every event
 * up to where a live feed starts: the read model waits until it has applied them, and
 * the feed sends what comes after. Empty streams (0-0) need no wait; an unreadable or
 * too long cursor gives no marks (the read is then as fresh as the read model is).
 */
export function afterMarks(cursor: string): string[] {
  const positions = cursorPositions(cursor);
  if (!positions) return [];
  const marks = Object.entries(positions)
    .filter(([, position]) => position !== "0-0" && position !== "0")
    .map(([stream, position]) => `${stream}@${position}`);
  return marks.length <= MAX_AFTER ? marks : [];
}

/** "1732182312345-7" as a pair that orders like the stream does. */
export function positionKey(position: string): [number, number] {
  const [ms, seq] = position.split("-");
  return [Number(ms), Number(seq ?? 0)];
}

export function isAfter(position: string, than: string): boolean {
  const [a, b] = positionKey(position);
  const [c, d] = positionKey(than);
  return a > c || (a === c && b > d);
}

/** A REST event (the explorer's) in the live shape, so one renderer serves both. */
export function liveEventOf(event: EventOut): LiveEvent {
  return {
    event_id: event.event_id ?? "",
    type: event.type ?? "(undecodable)",
    key: event.key ?? null,
    occurred_at: event.occurred_at ?? event.appended_at,
    causation_id: event.causation_id ?? null,
    correlation_id: event.correlation_id ?? null,
    payload: event.payload,
  };
}
