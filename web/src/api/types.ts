/**
 * The API's shapes, generated from its OpenAPI document (`make web-types` writes
 * openapi.json and schema.d.ts; a Python test checks openapi.json is current).
 */
import type { components } from "./schema";

type S = components["schemas"];

export type Me = S["Me"];
export type RulePublic = S["RulePublic"];
export type RuleSpec = S["RuleSpec"];
export type Accepted = S["Accepted"];
export type WalletWatched = S["WalletWatched"];
export type UserDeleted = S["UserDeleted"];
export type PricePublic = S["PricePublic"];
export type CandlePublic = S["CandlePublic"];
export type AlertPublic = S["AlertPublic"];
export type NotificationPublic = S["NotificationPublic"];
export type ConversationPublic = S["ConversationPublic"];
export type MessagePublic = S["MessagePublic"];
export type MessageAccepted = S["MessageAccepted"];
export type WatchList = S["WatchList"];
export type EventOut = S["EventOut"];
export type StreamOut = S["StreamOut"];
export type GroupOut = S["GroupOut"];
export type Correlation = S["Correlation"];
export type HistoryEvent = S["HistoryEvent"];
export type AggregateView = S["AggregateView"];
export type ProjectionOut = S["ProjectionOut"];
export type DeadLetterOut = S["DeadLetterOut"];
export type EventTypeOut = S["EventTypeOut"];
export type ScratchOut = S["ScratchOut"];
export type ScratchStarted = S["ScratchStarted"];
export type RebuildStarted = S["RebuildStarted"];
export type ChannelAdded = S["ChannelAdded"];
export type ChannelTestAccepted = S["ChannelTestAccepted"];
export type IssuedLinkCode = S["IssuedLinkCode"];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
