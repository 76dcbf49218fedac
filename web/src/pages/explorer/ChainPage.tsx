/**
 * A causal chain as a timeline: every event of one correlation id, each under its
 * cause (tick → alert → notification; message → turn → reply). `?focus=<event id>`
 * marks one event and the path back to the chain's root.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import type { Correlation, EventOut } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Loading, Section, Time } from "../../components/common";
import { ancestry, timeline } from "../../logic/chain";
import { EventDetail } from "./EventDetail";

export default function ChainPage() {
  const { api } = useSession();
  const { correlationId = "" } = useParams();
  const [params] = useSearchParams();
  const focus = params.get("focus");
  const [scan, setScan] = useState(10_000);
  const chain = useQuery({
    queryKey: ["chain", correlationId, scan],
    queryFn: () => api.get<Correlation>(`/v1/admin/correlations/${correlationId}`, { scan }),
  });
  const events = chain.data?.events ?? [];
  const rows = timeline(events);
  const path = new Set(focus ? ancestry(events, focus).map((e) => e.event_id) : []);
  const [selected, setSelected] = useState<EventOut | null>(null);
  const shown = selected ?? events.find((e) => e.event_id === focus) ?? null;
  return (
    <Section title={`Causal chain ${correlationId}`} actions={<Link to="/explorer">Back to streams</Link>}>
      {chain.isLoading && <Loading what="the chain" />}
      <ErrorNote error={chain.error} />
      {chain.data?.truncated && (
        <p className="notice">
          The scan stopped before the whole history ({chain.data.streams_scanned} streams, {scan.toLocaleString()} entries each).{" "}
          <button type="button" onClick={() => setScan(Math.min(100_000, scan * 10))} disabled={scan >= 100_000}>
            Scan further
          </button>
        </p>
      )}
      <ol className="timeline" data-testid="chain-timeline">
        {rows.map(({ event, depth }) => (
          <li
            key={`${event.stream} ${event.position}`}
            style={{ marginInlineStart: `${depth * 1.5}rem` }}
            className={`${path.has(event.event_id) ? "on-path" : ""} ${event.event_id === focus ? "focus" : ""}`}
            data-type={event.type ?? ""}
          >
            <button type="button" className="link" onClick={() => setSelected(event)}>
              {event.type ?? "(undecodable)"}
            </button>{" "}
            <span className="muted">
              {event.stream} · key {event.key} · <Time value={event.occurred_at} />
            </span>
          </li>
        ))}
      </ol>
      {chain.data && rows.length === 0 && <p className="muted">No event of this chain was found.</p>}
      {shown && <EventDetail event={shown} />}
    </Section>
  );
}
