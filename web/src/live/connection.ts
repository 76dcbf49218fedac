/**
 * One WebSocket per signed-in page, shared by every live view, that survives restarts.
 *
 * 1. Connect, then authenticate with the first message (browsers cannot set headers on
 *    a WebSocket, and the key must not travel in the URL).
 * 2. Subscribe to each topic a view follows, with the topic's last cursor if it has one:
 *    the server sends what was missed first, then live events.
 * 3. Keep each topic's cursor: from `subscribed`, then from every event. Listeners get
 *    `subscribed` too (a late joiner, the topic's cursor then): where their feed starts,
 *    so a page reads its snapshot after it and misses nothing in between.
 * 4. On a drop (network, server restart, 4408 "too slow"), reconnect with backoff and
 *    go to 1; nothing is lost or repeated because of 2. Events at or before the last
 *    position seen of their stream are ignored all the same (a belt to the cursor's braces).
 * 5. A refusal of the key (4401, 4403) is final: the page says so and stops trying.
 */
import { isAfter, type ServerMessage, type TopicMessage } from "./protocol";

export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting" | "refused" | "closed";

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface LiveOptions {
  url: string;
  key: string;
  connect?: SocketFactory;
  /** Delay before reconnection attempt n (1-based), in ms. */
  backoffMs?: (attempt: number) => number;
  schedule?: (callback: () => void, ms: number) => unknown;
}

type Listener = (message: TopicMessage) => void;
type StatusListener = (status: LiveStatus, detail: string | null) => void;

const OPEN = 1;
const FINAL_CLOSES = new Set([4401, 4403]);

interface TopicState {
  listeners: Set<Listener>;
  cursor: string | null;
  /** The last position delivered per stream of the topic. */
  last: Map<string, string>;
  /** The server has confirmed the subscription at least once. */
  confirmed: boolean;
}

export function defaultBackoff(attempt: number): number {
  return Math.min(10_000, 250 * 2 ** Math.min(attempt - 1, 6)) * (0.5 + Math.random() / 2);
}

export function liveUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/ws`;
}

export class LiveConnection {
  private socket: SocketLike | null = null;
  private readonly topics = new Map<string, TopicState>();
  private readonly statusListeners = new Set<StatusListener>();
  private attempts = 0;
  private stopped = false;
  private authenticated = false;
  /** idle until a view follows a topic. */
  status: LiveStatus = "idle";
  statusDetail: string | null = null;

  constructor(private readonly options: LiveOptions) {}

  /** Follow `topic`; the returned function stops following it. */
  subscribe(topic: string, listener: Listener): () => void {
    let state = this.topics.get(topic);
    if (!state) {
      state = { listeners: new Set(), cursor: null, last: new Map(), confirmed: false };
      this.topics.set(topic, state);
      if (this.authenticated) this.sendSubscribe(topic, state);
    } else if (state.confirmed) {
      // The topic is followed already: this listener's feed starts at its cursor now.
      const joined = state;
      queueMicrotask(() => {
        if (joined.listeners.has(listener)) listener({ type: "subscribed", topic, cursor: joined.cursor ?? "" });
      });
    }
    state.listeners.add(listener);
    if (!this.socket && !this.stopped) this.open();
    const held = state;
    return () => {
      held.listeners.delete(listener);
      if (held.listeners.size === 0 && this.topics.get(topic) === held) {
        this.topics.delete(topic);
        if (this.authenticated) this.send({ type: "unsubscribe", topic });
      }
    };
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    listener(this.status, this.statusDetail);
    return () => this.statusListeners.delete(listener);
  }

  /** The cursor a topic would resume from (for tests and the page's status line). */
  cursorOf(topic: string): string | null {
    return this.topics.get(topic)?.cursor ?? null;
  }

  close(): void {
    this.stopped = true;
    this.socket?.close(1000, "signed out");
    this.socket = null;
    this.setStatus("closed", null);
  }

  private open(): void {
    const connect = this.options.connect ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    this.authenticated = false;
    this.setStatus(this.attempts === 0 ? "connecting" : "reconnecting", this.statusDetail);
    const socket = connect(this.options.url);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", key: this.options.key }));
    socket.onmessage = (event) => {
      if (this.socket === socket && typeof event.data === "string") this.receive(JSON.parse(event.data) as ServerMessage);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.closed(event.code, event.reason);
    };
    socket.onerror = () => undefined; // a close follows, which is where we act
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case "authenticated":
        this.authenticated = true;
        this.attempts = 0;
        this.setStatus("open", null);
        for (const [topic, state] of this.topics) this.sendSubscribe(topic, state);
        return;
      case "subscribed": {
        const state = this.topics.get(message.topic);
        if (!state) return;
        state.cursor = message.cursor;
        state.confirmed = true;
        state.listeners.forEach((listener) => listener(message));
        return;
      }
      case "unsubscribed":
      case "dropped": {
        const state = this.topics.get(message.topic);
        if (state) state.cursor = message.cursor;
        return;
      }
      case "event": {
        const state = this.topics.get(message.topic);
        if (!state) return;
        const last = state.last.get(message.stream);
        if (last !== undefined && !isAfter(message.position, last)) return; // seen already
        state.last.set(message.stream, message.position);
        state.cursor = message.cursor;
        state.listeners.forEach((listener) => listener(message));
        return;
      }
      case "delta":
        this.topics.get(message.topic)?.listeners.forEach((listener) => listener(message));
        return;
      case "error": {
        if (message.topic) this.topics.get(message.topic)?.listeners.forEach((listener) => listener(message));
        else this.statusDetail = message.detail;
        return;
      }
    }
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    this.authenticated = false;
    if (this.stopped) return;
    if (FINAL_CLOSES.has(code)) {
      this.setStatus("refused", reason || this.statusDetail || `closed with ${code}`);
      return;
    }
    this.attempts += 1;
    const delay = (this.options.backoffMs ?? defaultBackoff)(this.attempts);
    this.setStatus("reconnecting", reason || null);
    const schedule = this.options.schedule ?? ((callback, ms) => setTimeout(callback, ms));
    schedule(() => {
      if (!this.stopped && !this.socket) this.open();
    }, delay);
  }

  private sendSubscribe(topic: string, state: TopicState): void {
    this.send(state.cursor ? { type: "subscribe", topic, cursor: state.cursor } : { type: "subscribe", topic });
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket && this.socket.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private setStatus(status: LiveStatus, detail: string | null): void {
    this.status = status;
    this.statusDetail = detail;
    this.statusListeners.forEach((listener) => listener(status, detail));
  }
}
