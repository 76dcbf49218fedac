/**
 * A thread as the chat shows it: recorded messages (the read model), the reply being
 * written (streamed pieces, in order by `seq`), and whether the agent waits for a yes.
 */
import type { MessagePublic } from "../api/types";
import { isAfter } from "../live/protocol";

export interface Streaming {
  /** The user's message id the reply answers. */
  inReplyTo: string;
  pieces: Map<number, string>;
}

/** Add a piece; pieces may arrive out of order or twice, the text is rebuilt by seq. */
export function addPiece(streaming: Map<string, Streaming>, inReplyTo: string, seq: number, text: string): Map<string, Streaming> {
  const next = new Map(streaming);
  const current = next.get(inReplyTo) ?? { inReplyTo, pieces: new Map<number, string>() };
  const pieces = new Map(current.pieces);
  pieces.set(seq, text);
  next.set(inReplyTo, { inReplyTo, pieces });
  return next;
}

export function streamedText(streaming: Streaming): string {
  return [...streaming.pieces.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, text]) => text)
    .join("");
}

/** Streams whose reply is recorded now: the recorded reply replaces them. */
export function withoutAnswered(streaming: Map<string, Streaming>, messages: MessagePublic[]): Map<string, Streaming> {
  const answered = new Set(messages.filter((m) => m.role === "agent" && m.in_reply_to).map((m) => m.in_reply_to));
  const next = new Map([...streaming].filter(([inReplyTo]) => !answered.has(inReplyTo)));
  return next.size === streaming.size ? streaming : next;
}

/**
 * True while the thread's last user message has no recorded reply: the page keeps
 * reading the thread until it has one.
 *
 * Not "the last entry is the user's": a turn's tool calls, their results and its reply
 * are one event, but the read model writes them as separate documents, so a read may
 * land between them and end on a tool result. Taking that for a finished turn stopped
 * the reads for good whenever the conversation's live events had come before the page
 * followed it (a first message answered while the page was still opening the thread).
 */
export function awaitsReply(messages: MessagePublic[]): boolean {
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  if (!lastUser) return false;
  return !messages.some((m) => m.role === "agent" && m.in_reply_to === lastUser.message_id);
}

/**
 * True when the agent's last turn holds a call that needs the user's yes: a tool call
 * with no result after the last user message (the agent records it and asks).
 */
export function awaitsConfirmation(messages: MessagePublic[]): boolean {
  let lastUser = -1;
  messages.forEach((message, index) => {
    if (message.role === "user") lastUser = index;
  });
  const turn = messages.slice(lastUser + 1);
  const results = new Set(turn.filter((m) => m.role === "tool_result").map((m) => m.message_id));
  const pending = turn.some((m) => m.role === "tool_call" && !results.has(m.message_id));
  const last = turn[turn.length - 1];
  return pending && last?.role === "agent";
}

/**
 * The later of two read positions (`<stream>@<position>`) of one stream: a command's
 * receipt may come back after a live event of what it caused, and reading after the
 * receipt then would go back in time.
 */
export function laterPosition(current: string | null, next: string): string {
  if (current === null) return next;
  const [stream, position] = splitPosition(current);
  const [nextStream, nextPosition] = splitPosition(next);
  return stream === nextStream && !isAfter(nextPosition, position) ? current : next;
}

function splitPosition(token: string): [string, string] {
  const at = token.lastIndexOf("@");
  return [token.slice(0, at), token.slice(at + 1)];
}

export function newMessageId(): string {
  return crypto.randomUUID();
}

export function newThreadId(): string {
  return `web-${Date.now().toString(36)}`;
}

const SUMMARY_CHARS = 60;

/**
 * The folded line of a tool step: the tool's name (a result without one is named after
 * the call before it) and, for a result, the start of what it said.
 */
export function toolLabel(messages: MessagePublic[], index: number): string {
  const message = messages[index];
  if (!message) return "";
  let name = message.tool;
  for (let i = index - 1; name == null && i >= 0; i -= 1) {
    const earlier = messages[i];
    if (earlier?.role === "tool_call") name = earlier.tool;
    if (earlier?.role === "user" || earlier?.role === "agent") break;
  }
  const tool = name ?? "a tool";
  if (message.role === "tool_call") return `${tool}${message.error ? " (failed)" : ""}`;
  const first = message.text.replace(/\s+/g, " ").trim();
  const summary = first.length > SUMMARY_CHARS ? `${first.slice(0, SUMMARY_CHARS - 1)}…` : first;
  return `result of ${tool}${message.error ? " (failed)" : ""}${summary ? `: ${summary}` : ""}`;
}
