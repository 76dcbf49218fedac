/**
 * The streams explorer: categories and partitions with their lengths; one category or
 * stream read by position or by time, forwards or backwards, filtered by type, key and
 * correlation id; an event's detail with its causal chain one click away.
 */
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import type { EventOut, EventTypeOut, Page, StreamOut } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Loading, Section, Time } from "../../components/common";
import { isoOfUtcInput, utcInputOf } from "../../logic/utcTime";
import { EventDetail } from "./EventDetail";

const FILTERS = ["category", "stream", "from", "to", "start", "end", "type", "key", "correlation_id", "direction", "limit"] as const;

export default function ExplorerPage() {
  const { api } = useSession();
  const [params, setParams] = useSearchParams();
  const streams = useQuery({ queryKey: ["streams"], queryFn: () => api.get<StreamOut[]>("/v1/admin/streams"), refetchInterval: 5_000 });
  const types = useQuery({ queryKey: ["event-types"], queryFn: () => api.get<EventTypeOut[]>("/v1/admin/event-types"), staleTime: Infinity });
  const query = useMemo(() => Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ""])), [params]);
  const target = query.category || query.stream;
  const filtersKey = JSON.stringify(query);

  const choose = (next: Partial<Record<(typeof FILTERS)[number], string>>) => {
    const merged = { ...query, ...next };
    setParams(Object.fromEntries(Object.entries(merged).filter(([, value]) => value)));
  };

  const categories = useMemo(() => {
    const grouped = new Map<string, StreamOut[]>();
    for (const stream of streams.data ?? []) grouped.set(stream.category, [...(grouped.get(stream.category) ?? []), stream]);
    return [...grouped.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [streams.data]);

  return (
    <div className="explorer">
      <Section title="Streams">
        {streams.isLoading && <Loading what="streams" />}
        <ErrorNote error={streams.error} />
        <ul className="categories">
          {categories.map(([category, parts]) => (
            <li key={category}>
              <button type="button" className="link" onClick={() => choose({ category, stream: "" })} aria-pressed={query.category === category}>
                {category}
              </button>{" "}
              <span className="muted">{parts.reduce((sum, s) => sum + s.length, 0).toLocaleString()} events</span>
              <ul>
                {parts.map((stream) => (
                  <li key={stream.stream}>
                    <button type="button" className="link" onClick={() => choose({ stream: stream.stream, category: "" })} aria-pressed={query.stream === stream.stream}>
                      {stream.partition}
                    </button>{" "}
                    <span className="muted">{stream.length.toLocaleString()}</span>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      </Section>
      <div>
        <Section title={target ? `Events of ${target}` : "Events"}>
          {/* Keyed on the URL's filters: the form starts again from them whenever they change
              (a category chosen, "only this key"), so Apply never sends a stale copy back. */}
          <Filters key={`filters ${filtersKey}`} query={query} types={types.data ?? []} onApply={choose} />
          {/* Keyed likewise: another query starts again from its first page. */}
          {target ? <Events key={`events ${filtersKey}`} query={query} onFilter={(field, value) => choose({ [field]: value })} /> : <p className="muted">Choose a category or a partition.</p>}
        </Section>
        <EventTypes types={types.data ?? []} error={types.error} onChoose={(type) => choose({ type })} />
      </div>
    </div>
  );
}

/** Every event type the store knows, as the type filter offers them, with what each holds. */
function EventTypes({ types, error, onChoose }: { types: EventTypeOut[]; error: unknown; onChoose: (type: string) => void }) {
  return (
    <Section title="Event types">
      <ErrorNote error={error} />
      <details>
        <summary>All {types.length} event types, with their fields and schema versions</summary>
        <div className="scroll">
          <table data-testid="event-types">
            <caption className="visually-hidden">Event types</caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Version</th>
                <th scope="col">Category</th>
                <th scope="col">Description</th>
                <th scope="col">Fields</th>
              </tr>
            </thead>
            <tbody>
              {types.map((type) => (
                <tr key={type.type} data-type={type.type}>
                  <th scope="row">
                    <button type="button" className="link" onClick={() => onChoose(type.type)} aria-label={`Filter by ${type.type}`}>
                      {type.type}
                    </button>
                  </th>
                  <td className="number">v{type.schema_version}</td>
                  <td>{type.category ?? "—"}</td>
                  <td>{type.description}</td>
                  <td>
                    <code>{type.fields.join(", ")}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </Section>
  );
}

function Filters({ query, types, onApply }: { query: Record<string, string>; types: EventTypeOut[]; onApply: (next: Record<string, string>) => void }) {
  const [draft, setDraft] = useState(query);
  const [by, setBy] = useState<"position" | "time">(query.start || query.end ? "time" : "position");
  const set = (name: string, value: string) => setDraft((current) => ({ ...current, [name]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { category: _category, stream: _stream, ...fields } = draft; // the list above chooses those
    onApply(
      by === "position"
        ? { ...fields, start: "", end: "" }
        : { ...fields, from: "", to: "", start: isoOfUtcInput(draft.start), end: isoOfUtcInput(draft.end) },
    );
  };
  const input = (name: string, label: string, extra: Record<string, unknown> = {}) => (
    <div className="field">
      <label htmlFor={`filter-${name}`}>{label}</label>
      <input id={`filter-${name}`} value={draft[name] ?? ""} onChange={(event) => set(name, event.target.value)} {...extra} />
    </div>
  );
  return (
    <form className="filters" onSubmit={submit} aria-label="Filters">
      <fieldset>
        <legend>Read by</legend>
        <label className="check">
          <input type="radio" name="by" checked={by === "position"} onChange={() => setBy("position")} /> position
        </label>
        <label className="check">
          <input type="radio" name="by" checked={by === "time"} onChange={() => setBy("time")} /> time
        </label>
      </fieldset>
      {by === "position" ? (
        <>
          {input("from", "From position", { placeholder: "1732182312345-0" })}
          {input("to", "To position")}
        </>
      ) : (
        <>
          {input("start", "From time (UTC)", { type: "datetime-local", step: 1, value: utcInputOf(draft.start) })}
          {input("end", "To time (UTC)", { type: "datetime-local", step: 1, value: utcInputOf(draft.end) })}
        </>
      )}
      <div className="field">
        <label htmlFor="filter-type">Type</label>
        <select id="filter-type" value={draft.type ?? ""} onChange={(event) => set("type", event.target.value)}>
          <option value="">any type</option>
          {types.map((type) => (
            <option key={type.type} value={type.type} title={type.description}>
              {type.type}
            </option>
          ))}
        </select>
      </div>
      {input("key", "Key")}
      {input("correlation_id", "Correlation id")}
      <div className="field">
        <label htmlFor="filter-direction">Order</label>
        <select id="filter-direction" value={draft.direction || "desc"} onChange={(event) => set("direction", event.target.value)}>
          <option value="desc">newest first</option>
          <option value="asc">oldest first</option>
        </select>
      </div>
      <div className="actions">
        <button type="submit">Apply</button>
      </div>
    </form>
  );
}

function Events({ query, onFilter }: { query: Record<string, string>; onFilter: (field: "key" | "correlation_id" | "type", value: string) => void }) {
  const { api } = useSession();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<EventOut | null>(null);
  const cursor = cursors[cursors.length - 1] ?? null;
  const request = { ...query, direction: query.direction || "desc", limit: query.limit || "100", cursor };
  const page = useQuery({
    queryKey: ["events", request],
    queryFn: () => api.get<Page<EventOut>>("/v1/admin/events", request),
    placeholderData: (previous) => previous,
  });
  return (
    <div className="events">
      <ErrorNote error={page.error} />
      {page.isLoading && <Loading what="events" />}
      <div className="scroll">
        <table data-testid="events-table">
          <caption className="visually-hidden">Events</caption>
          <thead>
            <tr>
              <th scope="col">Position</th>
              <th scope="col">Type</th>
              <th scope="col">Key</th>
              <th scope="col">Occurred (your time)</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((event) => (
              <tr key={`${event.stream} ${event.position}`} className={selected === event ? "selected" : ""}>
                <td>
                  <button type="button" className="link" onClick={() => setSelected(event)}>
                    {event.position}
                  </button>
                  {query.category && <span className="muted"> {event.stream.split(":")[1]}</span>}
                </td>
                <td>{event.type}</td>
                <td>{event.key}</td>
                <td>
                  <Time value={event.occurred_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data && page.data.items.length === 0 && <p className="muted">No event matches.</p>}
      <div className="actions">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page.data?.next_cursor} onClick={() => setCursors([...cursors, page.data?.next_cursor ?? null])}>
          Next page
        </button>
      </div>
      {selected && <EventDetail event={selected} onFilter={onFilter} />}
    </div>
  );
}
