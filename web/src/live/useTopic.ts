/** React hooks over the shared live connection. */
import { useEffect, useRef, useState } from "react";
import { useSession } from "../auth/session";
import type { LiveStatus } from "./connection";
import type { TopicMessage } from "./protocol";

/** Call `onMessage` for every message of `topic` while the component is shown. */
export function useTopic(topic: string | null, onMessage: (message: TopicMessage) => void): void {
  const { live } = useSession();
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    if (!topic) return undefined;
    return live.subscribe(topic, (message) => handler.current(message));
  }, [live, topic]);
}

/**
 * The live cursor this view's feed of `topic` starts at: null until the subscription is
 * confirmed, or "" when no live connection came within `waitMs` (the snapshot is then
 * read without it). Read a REST snapshot with it as `after_cursor`, after subscribing,
 * and nothing falls between the snapshot and the feed. The cursor is passed unread: the
 * server, which made it, knows its positions.
 */
export function useFeedStart(topic: string, waitMs = 3_000): string | null {
  const [cursor, setCursor] = useState<string | null>(null);
  useEffect(() => {
    const fallback = setTimeout(() => setCursor((current) => current ?? ""), waitMs);
    return () => clearTimeout(fallback);
  }, [waitMs]);
  useTopic(topic, (message) => {
    if (message.type === "subscribed") setCursor((current) => (current ? current : message.cursor));
  });
  return cursor;
}

export function useLiveStatus(): { status: LiveStatus; detail: string | null } {
  const { live } = useSession();
  const [state, setState] = useState<{ status: LiveStatus; detail: string | null }>({ status: live.status, detail: live.statusDetail });
  useEffect(() => live.onStatus((status, detail) => setState({ status, detail })), [live]);
  return state;
}
