/**
 * Handlers: per handler and partition, lag, pending, processed, failed, dead-lettered and
 * who owns it (live); dead letters with their error, to retry or discard.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import type { DeadLetterOut, Page, StreamOut } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Loading, Section, Time } from "../../components/common";

export default function HandlersPage() {
  return (
    <div className="handlers">
      <Groups />
      <DeadLetters />
    </div>
  );
}

function Groups() {
  const { api } = useSession();
  const streams = useQuery({ queryKey: ["streams"], queryFn: () => api.get<StreamOut[]>("/v1/admin/streams"), refetchInterval: 2_000 });
  const [only, setOnly] = useState("");
  const rows = (streams.data ?? [])
    .flatMap((stream) => stream.groups.map((group) => ({ stream, group })))
    .filter(({ group }) => group.group.includes(only.trim()))
    .sort((a, b) => a.group.group.localeCompare(b.group.group) || a.stream.stream.localeCompare(b.stream.stream));
  return (
    <Section title="Handlers by partition">
      {streams.isLoading && <Loading what="handlers" />}
      <ErrorNote error={streams.error} />
      <div className="field">
        <label htmlFor="handler-filter">Only handlers named with</label>
        <input id="handler-filter" value={only} onChange={(event) => setOnly(event.target.value)} placeholder="rules, notify, proj-…" />
      </div>
      <div className="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Handler</th>
              <th scope="col">Stream</th>
              <th scope="col">Lag</th>
              <th scope="col">Pending</th>
              <th scope="col">Processed</th>
              <th scope="col">Failed</th>
              <th scope="col">Dead</th>
              <th scope="col">Owner</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ stream, group }) => (
              <tr key={`${group.group} ${stream.stream}`}>
                <th scope="row">{group.group}</th>
                <td>{stream.stream}</td>
                <td className="number">
                  {group.lag ?? "?"}
                  {group.lag_is_lower_bound ? "+" : ""}
                </td>
                <td className="number">{group.pending}</td>
                <td className="number">{group.processed}</td>
                <td className="number">{group.failed}</td>
                <td className="number">{group.dead_lettered}</td>
                <td>{group.owner ?? <span className="muted">none</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

function DeadLetters() {
  const { api } = useSession();
  const queries = useQueryClient();
  const letters = useQuery({
    queryKey: ["dead-letters"],
    queryFn: () => api.get<Page<DeadLetterOut>>("/v1/admin/dead-letters", { limit: 200 }),
    refetchInterval: 3_000,
  });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const act = async (letter: DeadLetterOut, action: "retry" | "discard") => {
    setError(null);
    try {
      const result = await api.post<{ retried?: number; discarded?: number }>(`/v1/admin/dead-letters/${letter.handler}/${action}`, { ids: [letter.id] });
      setDone(action === "retry" ? `Retried ${result.retried ?? 0} of ${letter.handler}` : `Discarded ${result.discarded ?? 0} of ${letter.handler}`);
      await queries.invalidateQueries({ queryKey: ["dead-letters"] });
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Section title="Dead letters">
      {letters.isLoading && <Loading what="dead letters" />}
      <ErrorNote error={letters.error ?? error} />
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      <ul className="dead-letters" data-testid="dead-letters">
        {letters.data?.items.map((letter) => (
          <li key={letter.id} data-testid="dead-letter">
            <div>
              <strong>{letter.handler}</strong> <code>{letter.id}</code> {letter.original_type ?? "(undecodable)"} from{" "}
              <span className="origin">
                {letter.stream}@{letter.position}
              </span>{" "}
              · {letter.deliveries} deliveries · <Time value={letter.dead_at} />
            </div>
            <p className="error">
              {letter.error_type}: {letter.error}
            </p>
            <div className="actions">
              <button type="button" onClick={() => void act(letter, "retry")} aria-label={`Retry ${letter.id} of ${letter.handler}`}>
                Retry
              </button>
              <button type="button" className="danger" onClick={() => void act(letter, "discard")} aria-label={`Discard ${letter.id} of ${letter.handler}`}>
                Discard
              </button>
              {letter.correlation_id && <Link to={`/explorer/chain/${letter.correlation_id}`}>Causal chain</Link>}
            </div>
          </li>
        ))}
      </ul>
      {letters.data && letters.data.items.length === 0 && <p className="muted">No dead letters.</p>}
    </Section>
  );
}
