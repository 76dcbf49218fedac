/**
 * Read models: each one's generation and backlog; a rebuild with its progress; and a
 * dry run, a rebuild into a scratch generation diffed against the live one.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { ApiError } from "../../api/problem";
import type { ProjectionOut, ScratchOut } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Json, Loading, Section } from "../../components/common";

export default function ReadModelsPage() {
  const { api } = useSession();
  const models = useQuery({ queryKey: ["projections"], queryFn: () => api.get<ProjectionOut[]>("/v1/admin/projections"), refetchInterval: 1_000 });
  const [dryRun, setDryRun] = useState<string | null>(null);
  return (
    <div className="read-models">
      <Section title="Read models">
        {models.isLoading && <Loading what="read models" />}
        <ErrorNote error={models.error} />
        <ul className="models">
          {models.data?.map((model) => (
            <Model key={model.name} model={model} onDryRun={() => setDryRun(model.name)} />
          ))}
        </ul>
      </Section>
      {dryRun && <DryRun name={dryRun} onClose={() => setDryRun(null)} />}
    </div>
  );
}

function Model({ model, onDryRun }: { model: ProjectionOut; onDryRun: () => void }) {
  const { api } = useSession();
  const queries = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const largest = useRef(0);
  const remaining = model.building_backlog ?? 0;
  largest.current = model.building === null ? 0 : Math.max(largest.current, remaining);
  const rebuild = async () => {
    setError(null);
    try {
      await api.post(`/v1/admin/projections/${model.name}/rebuild`);
      await queries.invalidateQueries({ queryKey: ["projections"] });
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <li className="model" data-testid={`model-${model.name}`}>
      <strong>{model.name}</strong>{" "}
      <span className="muted">
        generation {model.active} ({model.collection}) · backlog {model.backlog}
        {model.started ? "" : " · not started"}
        {model.retired.length > 0 ? ` · retired ${model.retired.join(", ")}` : ""}
      </span>
      {model.building !== null ? (
        <div className="progress-line" data-testid="rebuild-progress">
          Rebuilding into generation {model.building}: {remaining} events to go
          <progress max={Math.max(largest.current, 1)} value={Math.max(largest.current, 1) - remaining} aria-label={`Rebuild of ${model.name}`} />
        </div>
      ) : null}
      <div className="actions">
        <button type="button" onClick={() => void rebuild()} disabled={model.building !== null} aria-label={`Rebuild ${model.name}`}>
          Rebuild
        </button>
        <button type="button" onClick={onDryRun} aria-label={`Dry run of ${model.name}`}>
          Dry run (diff)
        </button>
      </div>
      <ErrorNote error={error} />
    </li>
  );
}

function DryRun({ name, onClose }: { name: string; onClose: () => void }) {
  const { api } = useSession();
  const [started, setStarted] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const scratch = useQuery({
    queryKey: ["scratch", name, started],
    queryFn: () => api.get<ScratchOut>(`/v1/admin/projections/${name}/scratch`, { samples: 20 }),
    retry: false,
    refetchInterval: (query) => (query.state.data?.diff ? false : 1_000),
  });
  const start = async () => {
    setError(null);
    try {
      await api.post(`/v1/admin/projections/${name}/scratch`);
      setStarted(true);
    } catch (failure) {
      setError(failure);
    }
  };
  const discard = async () => {
    try {
      await api.delete(`/v1/admin/projections/${name}/scratch`);
      onClose();
    } catch (failure) {
      setError(failure);
    }
  };
  const exists = Boolean(scratch.data);
  const diff = scratch.data?.diff;
  return (
    <Section title={`Dry run of ${name}`} actions={<button type="button" onClick={onClose}>Close</button>}>
      <p className="muted">Replays the log into a scratch generation that is never swapped in, then shows what a rebuild would change.</p>
      {!exists && (
        <button type="button" onClick={() => void start()}>
          Start the dry run
        </button>
      )}
      <ErrorNote error={error} />
      {/* a 404 only says no dry run was started yet: the button above is the answer */}
      {!(scratch.error instanceof ApiError && scratch.error.status === 404) && <ErrorNote error={scratch.error} />}
      {scratch.isLoading && <Loading what="the dry run" />}
      {scratch.data && !diff && <p role="status">Filling generation {scratch.data.scratch}: {scratch.data.backlog} events to go…</p>}
      {diff && (
        <div data-testid="dry-run-diff">
          <p role="status">
            Compared {diff.compared} documents: {diff.unchanged} unchanged, {diff.added} added, {diff.removed} removed, {diff.changed} changed
            {diff.truncated ? " (stopped early)" : ""}.
          </p>
          <ul>
            {diff.samples.map((sample) => (
              <li key={sample.id}>
                <strong>{sample.change}</strong> <code>{sample.id}</code>
                <div className="diff">
                  <Json value={sample.before} />
                  <Json value={sample.after} />
                </div>
              </li>
            ))}
          </ul>
        </div>
      )}
      {exists && (
        <button type="button" className="danger" onClick={() => void discard()}>
          Discard the dry run
        </button>
      )}
    </Section>
  );
}
