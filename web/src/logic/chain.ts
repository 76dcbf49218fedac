/**
 * A causal chain as a tree: every event of one correlation id, each under the event
 * that caused it (tick -> alert -> notification; message -> turn -> reply). The API
 * gives the chain oldest first; events whose cause is not in the chain (outside the
 * scanned window) become roots, so nothing is hidden.
 */

export interface ChainEvent {
  event_id: string | null;
  causation_id?: string | null;
  type: string | null;
  stream: string;
  position: string;
}

export interface ChainNode<E extends ChainEvent> {
  event: E;
  depth: number;
  children: ChainNode<E>[];
}

export function chainTree<E extends ChainEvent>(events: E[]): ChainNode<E>[] {
  const nodes = new Map<string, ChainNode<E>>();
  const roots: ChainNode<E>[] = [];
  const all = events.map((event) => ({ event, depth: 0, children: [] as ChainNode<E>[] }));
  for (const node of all) if (node.event.event_id) nodes.set(node.event.event_id, node);
  for (const node of all) {
    const cause = node.event.causation_id;
    const parent = cause && cause !== node.event.event_id ? nodes.get(cause) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const setDepth = (node: ChainNode<E>, depth: number) => {
    node.depth = depth;
    node.children.forEach((child) => setDepth(child, depth + 1));
  };
  roots.forEach((root) => setDepth(root, 0));
  return roots;
}

/** The tree flattened depth first, each event after its cause: the timeline's rows. */
export function timeline<E extends ChainEvent>(events: E[]): ChainNode<E>[] {
  const rows: ChainNode<E>[] = [];
  const walk = (node: ChainNode<E>) => {
    rows.push(node);
    node.children.forEach(walk);
  };
  chainTree(events).forEach(walk);
  return rows;
}

/** The path from the chain's root to `eventId`: e.g. the tick an alert fired on. */
export function ancestry<E extends ChainEvent>(events: E[], eventId: string): E[] {
  const byId = new Map(events.filter((e) => e.event_id).map((e) => [e.event_id as string, e]));
  const path: E[] = [];
  let current = byId.get(eventId);
  const seen = new Set<string>();
  while (current && current.event_id && !seen.has(current.event_id)) {
    seen.add(current.event_id);
    path.unshift(current);
    current = current.causation_id ? byId.get(current.causation_id) : undefined;
  }
  return path;
}
