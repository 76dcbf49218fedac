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
 * Where a listener's live feed starts: the server's `subscribed` (its cursor marks where
 * the feed starts), or for a listener joining a topic already followed, the topic's
 * cursor as of that moment. A page reads its REST snapshot with this cursor as
 * `after_cursor`, so that nothing falls between the two. Cursors are opaque: the page
 * passes them back, never reads them.
 */
export interface SubscribedMessage {
  type: "subscribed";
  topic: string;
  cursor: string;
}

/** What a page's listener receives for its topic. */
export type TopicMessage = EventMessage | DeltaMessage | SubscribedMessage | { type: "error"; detail: string; topic?: string };

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
