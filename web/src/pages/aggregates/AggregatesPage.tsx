/**
 * Time travel: any aggregate's history, and its state at any version (a slider).
 */
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import type { AggregateView, HistoryEvent } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Json, Loading, Section, Time } from "../../components/common";

export default function AggregatesPage() {
  const [params, setParams] = useSearchParams();
  const id = params.get("id") ?? "";
  const [draft, setDraft] = useState(id);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams({ id: draft.trim() });
  };
  return (
    <Section title="Aggregates">
      <form className="inline" onSubmit={submit}>
        <label htmlFor="aggregate-id">Aggregate id</label>
        <input id="aggregate-id" value={draft} onChange={(event) => setDraft(event.target.value)} placeholder="a rule's, a user's or a conversation's id" size={40} />
        <button type="submit">Open</button>
      </form>
      {id && <Aggregate key={id} id={id} />}
    </Section>
  );
}

function Aggregate({ id }: { id: string }) {
  const { api } = useSession();
  const history = useQuery({ queryKey: ["history", id], queryFn: () => api.get<HistoryEvent[]>(`/v1/admin/aggregates/${id}/history`) });
  const latest = history.data?.length ?? 0;
  const [chosen, setChosen] = useState<number | null>(null);
  const version = chosen ?? latest;
  const view = useQuery({
    queryKey: ["aggregate", id, version],
    enabled: version > 0,
    queryFn: () => api.get<AggregateView>(`/v1/admin/aggregates/${id}`, { version }),
    placeholderData: (previous) => previous,
  });
  if (history.isLoading) return <Loading what="the history" />;
  if (history.error) return <ErrorNote error={history.error} />;
  const event = history.data?.[version - 1];
  return (
    <div className="aggregate">
      <div className="field">
        <label htmlFor="version">
          Version {version} of {latest}
        </label>
        <input id="version" type="range" min={1} max={latest} value={version} onChange={(e) => setChosen(Number(e.target.value))} />
      </div>
      {event && (
        <p>
          <strong>{event.type}</strong> <Time value={event.timestamp} />
        </p>
      )}
      <ErrorNote error={view.error} />
      <h3>State at version {version}</h3>
      {view.data && <Json value={view.data} />}
      <h3>History</h3>
      <ol className="history">
        {history.data?.map((item) => (
          <li key={item.originator_version} className={item.originator_version === version ? "selected" : ""}>
            <button type="button" className="link" onClick={() => setChosen(item.originator_version)}>
              v{item.originator_version} {item.type}
            </button>{" "}
            <Time value={item.timestamp} />
          </li>
        ))}
      </ol>
    </div>
  );
}
