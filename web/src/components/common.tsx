/** Small pieces every page uses: errors in the API's words, JSON, extra fields, times. */
import type { ReactNode } from "react";
import { messageOf } from "../api/problem";

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {messageOf(error)}
    </p>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

/**
 * Fields of `record` that this page does not know (`known`): shown as they are, so a
 * field the API adds later (a rule's health, a price's venues) is seen, not lost.
 */
export function ExtraFields({ record, known }: { record: object; known: readonly string[] }) {
  const extra = Object.entries(record).filter(([name]) => !known.includes(name));
  if (extra.length === 0) return null;
  return (
    <dl className="extra">
      {extra.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{typeof value === "object" && value !== null ? <Json value={value} /> : String(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  const date = new Date(value);
  return (
    <time dateTime={value} title={value}>
      {date.toLocaleString()}
    </time>
  );
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="panel" aria-label={title}>
      <header className="panel-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted" role="status">Loading {what}…</p>;
}

export function MoreButton({ cursor, onMore, busy }: { cursor: string | null | undefined; onMore: () => void; busy?: boolean }) {
  if (!cursor) return null;
  return (
    <button type="button" onClick={onMore} disabled={busy}>
      More
    </button>
  );
}
