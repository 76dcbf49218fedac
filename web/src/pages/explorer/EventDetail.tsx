/** One event: its envelope, payload, and links along its causal chain. */
import { Link } from "react-router";
import type { EventOut } from "../../api/types";
import { Json, Time } from "../../components/common";

export function EventDetail({ event, onFilter }: { event: EventOut; onFilter?: (field: "key" | "correlation_id" | "type", value: string) => void }) {
  return (
    <article className="event-detail" aria-label="Event detail">
      <h3>
        {event.type ?? "(undecodable)"} <span className="muted">at {event.position}</span>
      </h3>
      <dl className="envelope">
        <dt>stream</dt>
        <dd>{event.stream}</dd>
        <dt>event id</dt>
        <dd>
          <code>{event.event_id}</code>
        </dd>
        <dt>key</dt>
        <dd>
          {event.key}{" "}
          {event.key && event.stream.includes("{app.") && (
            <Link to={`/aggregates?id=${encodeURIComponent(event.key)}`}>open the aggregate</Link>
          )}{" "}
          {event.key && onFilter && (
            <button type="button" className="link" onClick={() => onFilter("key", event.key as string)}>
              only this key
            </button>
          )}
        </dd>
        <dt>occurred</dt>
        <dd>
          <Time value={event.occurred_at} /> (appended <Time value={event.appended_at} />)
        </dd>
        <dt>causation</dt>
        <dd>
          <code>{event.causation_id ?? "—"}</code>
        </dd>
        <dt>correlation</dt>
        <dd>
          {event.correlation_id ? (
            <>
              <Link to={`/explorer/chain/${event.correlation_id}?focus=${event.event_id ?? ""}`}>follow the causal chain</Link>{" "}
              {onFilter && (
                <button type="button" className="link" onClick={() => onFilter("correlation_id", event.correlation_id as string)}>
                  only this chain here
                </button>
              )}
            </>
          ) : (
            "—"
          )}
        </dd>
        {event.undecodable && (
          <>
            <dt>undecodable</dt>
            <dd className="error">{event.undecodable}</dd>
          </>
        )}
      </dl>
      <Json value={event.payload} />
    </article>
  );
}
