/**
 * Chat with the agent. A thread is named by the page (`web-…`); its first message opens
 * the conversation. Replies stream in piece by piece from the WebSocket
 * (`conversation:<id>` deltas) and are replaced by the recorded reply when it arrives.
 */
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import type { ConversationPublic, MessageAccepted, MessagePublic, Page } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Loading, Time } from "../../components/common";
import { addPiece, awaitsConfirmation, awaitsReply, laterPosition, newMessageId, newThreadId, streamedText, toolLabel, withoutAnswered, type Streaming } from "../../logic/chat";
import { useTopic } from "../../live/useTopic";

export default function ChatPage() {
  const { api } = useSession();
  const [params, setParams] = useSearchParams();
  const conversations = useQuery({
    queryKey: ["conversations"],
    queryFn: () => api.get<Page<ConversationPublic>>("/v1/conversations", { limit: 50 }),
  });
  const selectedId = params.get("conversation");
  const selected = conversations.data?.items.find((c) => c.id === selectedId) ?? null;
  const threadId = selected?.thread_id ?? params.get("thread");

  const startThread = () => setParams({ thread: newThreadId() });
  const opened = (thread: string, id: string) => setParams({ thread, conversation: id });
  const open = (conversation: ConversationPublic) => setParams({ conversation: conversation.id });

  return (
    <div className="chat">
      <aside className="threads" aria-label="Conversations">
        <button type="button" onClick={startThread}>
          New conversation
        </button>
        <ErrorNote error={conversations.error} />
        <ul>
          {conversations.data?.items.map((conversation) => (
            <li key={conversation.id}>
              <button type="button" className={conversation.id === selectedId ? "current" : ""} onClick={() => open(conversation)} aria-current={conversation.id === selectedId}>
                {conversation.thread_id} <span className="muted">({conversation.platform}, {conversation.message_count})</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      {threadId ? (
        <Thread
          key={threadId}
          threadId={threadId}
          conversationId={selected?.id ?? selectedId}
          writable={!selected || selected.platform === "web"}
          onOpened={(id) => opened(threadId, id)}
        />
      ) : (
        <p className="muted">Start a new conversation, or open one.</p>
      )}
    </div>
  );
}

function Thread({ threadId, conversationId, writable, onOpened }: { threadId: string; conversationId: string | null; writable: boolean; onOpened: (id: string) => void }) {
  const { api } = useSession();
  const queries = useQueryClient();
  const [after, setAfter] = useState<string | null>(null);
  const [streaming, setStreaming] = useState<Map<string, Streaming>>(new Map());
  const [sendError, setSendError] = useState<unknown>(null);
  const [text, setText] = useState("");
  const [pendingUser, setPendingUser] = useState<{ id: string; text: string }[]>([]);
  const end = useRef<HTMLDivElement>(null);

  const [awaiting, setAwaiting] = useState(false);
  const history = useInfiniteQuery({
    queryKey: ["messages", conversationId, after],
    enabled: conversationId !== null,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api.get<Page<MessagePublic>>(`/v1/conversations/${conversationId}/messages`, { limit: 200, cursor: pageParam, after }),
    getNextPageParam: (last) => last.next_cursor,
    placeholderData: (previous) => previous,
    // A first message's reply may be recorded before the page follows the new
    // conversation's topic: until a reply shows, read the thread again each second.
    refetchInterval: awaiting ? 1_000 : false,
  });
  const messages = useMemo(() => history.data?.pages.flatMap((page) => page.items) ?? [], [history.data]);

  useTopic(conversationId ? `conversation:${conversationId}` : null, (message) => {
    if (message.type === "delta") setStreaming((current) => addPiece(current, message.in_reply_to, message.seq, message.text));
    else if (message.type === "event") {
      setAfter((current) => laterPosition(current, `${message.stream}@${message.position}`)); // read the read model after it
      void queries.invalidateQueries({ queryKey: ["conversations"] });
    }
  });

  useEffect(() => {
    if (history.hasNextPage && !history.isFetchingNextPage) void history.fetchNextPage();
  }, [history]);
  useEffect(() => {
    setStreaming((current) => withoutAnswered(current, messages));
    setPendingUser((current) => current.filter((p) => !messages.some((m) => m.message_id === p.id)));
  }, [messages]);
  useEffect(() => setAwaiting(pendingUser.length > 0 || awaitsReply(messages)), [messages, pendingUser]);
  useEffect(() => {
    // a block body: Chromium's scrollIntoView returns a promise, which an effect must not
    end.current?.scrollIntoView?.({ block: "end" });
  }, [messages.length, streaming]);

  async function send(body: string) {
    const messageId = newMessageId();
    setSendError(null);
    setPendingUser((current) => [...current, { id: messageId, text: body }]);
    try {
      const receipt = await api.post<MessageAccepted>(`/v1/conversations/threads/${encodeURIComponent(threadId)}/messages`, {
        message_id: messageId,
        text: body,
      });
      if (!conversationId) {
        await queries.invalidateQueries({ queryKey: ["conversations"] });
        onOpened(receipt.id);
      }
      setAfter((current) => laterPosition(current, receipt.position)); // a live event may have come first
    } catch (error) {
      setPendingUser((current) => current.filter((p) => p.id !== messageId));
      setSendError(error);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText("");
    void send(body);
  }

  const confirming = awaitsConfirmation(messages);
  return (
    <section className="thread" aria-label={`Conversation ${threadId}`}>
      <h2>{threadId}</h2>
      {conversationId && history.isLoading && <Loading what="the conversation" />}
      <ErrorNote error={history.error} />
      <ol className="messages" aria-live="polite">
        {messages.map((message, index) => (
          <MessageRow key={message.id} message={message} label={toolLabel(messages, index)} />
        ))}
        {pendingUser.map((pending) => (
          <li key={pending.id} className="message user pending">
            {pending.text}
          </li>
        ))}
        {[...streaming.values()].map((reply) => (
          <li key={reply.inReplyTo} className="message agent streaming" data-testid="streaming-reply">
            {streamedText(reply)}
            <span className="cursor" aria-hidden>
              ▍
            </span>
          </li>
        ))}
      </ol>
      <div ref={end} />
      {confirming && writable && (
        <div className="confirm" role="group" aria-label="The agent asks for your confirmation">
          <button type="button" onClick={() => void send("yes")}>
            Yes, do it
          </button>
          <button type="button" onClick={() => void send("no")}>
            No
          </button>
        </div>
      )}
      <ErrorNote error={sendError} />
      {writable ? (
        <form className="composer" onSubmit={submit}>
          <label htmlFor="chat-text" className="visually-hidden">
            Message
          </label>
          <input id="chat-text" value={text} onChange={(event) => setText(event.target.value)} placeholder="Ask: price of ETH, alert me when BTC crosses 100k…" maxLength={16000} autoComplete="off" />
          <button type="submit" disabled={!text.trim()}>
            Send
          </button>
        </form>
      ) : (
        <p className="muted">This conversation is on another platform: read only here.</p>
      )}
    </section>
  );
}

function MessageRow({ message, label }: { message: MessagePublic; label: string }) {
  if (message.role === "tool_call" || message.role === "tool_result") {
    return (
      <li className={`message tool ${message.error ? "tool-error" : ""}`}>
        <details>
          <summary>
            {message.role === "tool_call" ? "⚙ " : "↳ "}
            {label}
          </summary>
          <pre>{message.text}</pre>
        </details>
      </li>
    );
  }
  return (
    <li className={`message ${message.role}`}>
      <span className="text">{message.text}</span>
      <Time value={message.at} />
    </li>
  );
}
