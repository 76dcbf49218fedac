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

export function useLiveStatus(): { status: LiveStatus; detail: string | null } {
  const { live } = useSession();
  const [state, setState] = useState<{ status: LiveStatus; detail: string | null }>({ status: live.status, detail: live.statusDetail });
  useEffect(() => live.onStatus((status, detail) => setState({ status, detail })), [live]);
  return state;
}
