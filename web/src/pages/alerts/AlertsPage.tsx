/**
 * Alerts: the trader's rules (create, edit, pause, resume, delete), a live feed of
 * alerts as they fire, and each alert's deliveries per channel.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import type { Accepted, AlertPublic, Me, NotificationPublic, Page, RulePublic, RuleSpec } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, ExtraFields, Loading, Section, Time } from "../../components/common";
import { formOf } from "../../logic/ruleForm";
import type { LiveEvent } from "../../live/protocol";
import { useFeedStart, useTopic } from "../../live/useTopic";
import { RuleFormView } from "./RuleFormView";
import { RuleHealthBadge } from "./RuleHealthBadge";

const RULE_FIELDS = ["id", "owner_id", "spec", "status", "subjects", "trigger_count", "last_triggered_at", "created_at", "updated_at", "health", "health_detail"] as const;
const FEED_SIZE = 50;
/** How long the alert history waits for the live feed before it is read without it. */
const LIVE_WAIT_MS = 3_000;

export default function AlertsPage() {
  const { api } = useSession();
  const queries = useQueryClient();
  const [after, setAfter] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const me = useQuery({ queryKey: ["me"], queryFn: () => api.get<Me>("/v1/me") });
  const rules = useQuery({
    queryKey: ["rules", after],
    queryFn: () => api.get<Page<RulePublic>>("/v1/rules", { limit: 100, after }),
    placeholderData: (previous) => previous,
    // A firing is recorded on its rule a moment after the alert (the rule-firings
    // handler), and no live topic carries rule changes: read the rules again now and then.
    refetchInterval: 5_000,
  });
  const channelIds = (me.data?.channels ?? []).map((c) => c.channel_id);
  const channels = channelIds.includes("web") ? channelIds : ["web", ...channelIds];

  /** A command answered with its position: read the rules after it (read your writes). */
  const changed = async (receipt: Accepted) => {
    setAfter(receipt.position);
    await queries.invalidateQueries({ queryKey: ["rules"] });
  };

  const create = async (spec: RuleSpec) => {
    await changed(await api.post<Accepted>("/v1/rules", spec));
    setCreating(false);
  };

  return (
    <div className="alerts">
      <Section
        title="Your rules"
        actions={
          !creating && (
            <button type="button" onClick={() => setCreating(true)}>
              New rule
            </button>
          )
        }
      >
        {creating && <RuleFormView channels={channels} submitLabel="Create rule" onSubmit={create} onCancel={() => setCreating(false)} />}
        {rules.isLoading && <Loading what="rules" />}
        <ErrorNote error={rules.error} />
        <ul className="rules">
          {rules.data?.items.map((rule) => (
            <RuleRow key={rule.id} rule={rule} channels={channels} onChanged={changed} />
          ))}
        </ul>
        {rules.data?.items.length === 0 && <p className="muted">No rules yet.</p>}
      </Section>
      <AlertFeed />
    </div>
  );
}

function RuleRow({ rule, channels, onChanged }: { rule: RulePublic; channels: string[]; onChanged: (receipt: Accepted) => Promise<void> }) {
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const act = async (path: string, method: "post" | "delete" = "post") => {
    setError(null);
    try {
      const receipt = method === "post" ? await api.post<Accepted>(path) : await api.delete<Accepted>(path);
      await onChanged(receipt);
    } catch (failure) {
      setError(failure);
    }
  };
  const update = async (spec: RuleSpec) => {
    await onChanged(await api.put<Accepted>(`/v1/rules/${rule.id}`, spec));
    setEditing(false);
  };
  return (
    <li className={`rule status-${rule.status}`} data-testid="rule">
      <div className="rule-head">
        <strong>{rule.spec.name || rule.subjects.join(", ")}</strong>
        <span className={`badge status`}>{rule.status}</span>
        <span className="muted">
          {rule.subjects.join(", ")} · {String((rule.spec.condition as { type: string }).type)} · fired {rule.trigger_count} time{rule.trigger_count === 1 ? "" : "s"}
          {rule.last_triggered_at && (
            <>
              , last <Time value={rule.last_triggered_at} />
            </>
          )}
        </span>
      </div>
      <RuleHealthBadge health={rule.health} detail={rule.health_detail} />
      <ExtraFields record={rule} known={RULE_FIELDS} />
      <div className="actions">
        {rule.status === "active" && (
          <button type="button" onClick={() => void act(`/v1/rules/${rule.id}/pause`)}>
            Pause
          </button>
        )}
        {rule.status === "paused" && (
          <button type="button" onClick={() => void act(`/v1/rules/${rule.id}/resume`)}>
            Resume
          </button>
        )}
        {rule.status !== "deleted" && (
          <>
            <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              Edit
            </button>
            <button type="button" className="danger" onClick={() => void act(`/v1/rules/${rule.id}`, "delete")}>
              Delete
            </button>
          </>
        )}
      </div>
      <ErrorNote error={error} />
      {editing && <RuleFormView initial={formOf(rule.spec)} channels={channels} submitLabel="Save changes" onSubmit={update} onCancel={() => setEditing(false)} />}
    </li>
  );
}

interface FeedAlert {
  id: string;
  rule_id: string;
  subject: string;
  severity: string;
  message: string;
  triggered_at: string;
  correlation_id: string | null;
}

function fromEvent(event: LiveEvent): FeedAlert {
  const payload = event.payload as Omit<FeedAlert, "id" | "correlation_id">;
  return { ...payload, id: event.event_id, correlation_id: event.correlation_id ?? null };
}

function AlertFeed() {
  const { api, isAdmin } = useSession();
  // Follow first, then read the history up to where the feed starts (`after_cursor`, the
  // subscription's cursor): an alert that fires in between is in one or the other,
  // and one in both is shown once (by id). Without a live connection after a while, the
  // history is read all the same.
  const after = useFeedStart("alerts", LIVE_WAIT_MS);
  const history = useQuery({
    queryKey: ["alerts", after],
    enabled: after !== null,
    queryFn: () => api.get<Page<AlertPublic>>("/v1/alerts", { limit: FEED_SIZE, after_cursor: after }),
    placeholderData: (previous) => previous,
  });
  const [live, setLive] = useState<FeedAlert[]>([]);
  const [deliveries, setDeliveries] = useState<Map<string, LiveEvent[]>>(new Map());
  useTopic("alerts", (message) => {
    if (message.type === "event") setLive((current) => [fromEvent(message.event), ...current.filter((a) => a.id !== message.event.event_id)].slice(0, FEED_SIZE));
  });
  useTopic("notifications", (message) => {
    if (message.type !== "event") return;
    const subject = String(message.event.payload.subject_event_id ?? "");
    setDeliveries((current) => new Map(current).set(subject, [...(current.get(subject) ?? []), message.event]));
  });
  const seen = new Set(live.map((a) => a.id));
  const alerts = [...live, ...(history.data?.items ?? []).filter((a) => !seen.has(a.id))].slice(0, FEED_SIZE);
  return (
    <Section title="Alerts as they fire">
      <ErrorNote error={history.error} />
      {!history.data && !history.error && <Loading what="alerts" />}
      <ol className="feed" aria-live="polite" data-testid="alert-feed">
        {alerts.map((alert) => (
          <li key={alert.id} className={`alert severity-${alert.severity}`} data-testid="alert">
            <div>
              <span className="badge">{alert.severity}</span> <strong>{alert.subject}</strong> {alert.message} <Time value={alert.triggered_at} />
              {isAdmin && alert.correlation_id && (
                <>
                  {" "}
                  <Link to={`/explorer/chain/${alert.correlation_id}?focus=${alert.id}`}>Explain</Link>
                </>
              )}
            </div>
            <Deliveries alertId={alert.id} live={deliveries.get(alert.id) ?? []} />
          </li>
        ))}
      </ol>
      {history.data && alerts.length === 0 && <p className="muted">No alert has fired yet.</p>}
    </Section>
  );
}

/** Outcomes per channel: live ones as they come, else asked once from the read model. */
function Deliveries({ alertId, live }: { alertId: string; live: LiveEvent[] }) {
  const { api } = useSession();
  const [shown, setShown] = useState(false);
  const recorded = useQuery({
    queryKey: ["notifications", alertId],
    enabled: shown,
    queryFn: async () => (await api.get<Page<NotificationPublic>>("/v1/notifications", { subject_event_id: alertId, limit: 100 })).items,
  });
  const outcomes = [
    ...live.map((event) => ({
      key: event.event_id,
      channel: String(event.payload.channel_id),
      status: event.type === "notification.sent" ? "sent" : "failed",
      detail: String(event.payload.error ?? event.payload.response ?? ""),
    })),
    ...(recorded.data ?? [])
      .filter((n) => !live.some((event) => event.event_id === n.id))
      .map((n) => ({ key: n.id, channel: n.channel_id, status: n.status, detail: n.error ?? n.response ?? "" })),
  ];
  return (
    <div className="deliveries">
      {outcomes.map((outcome) => (
        <span key={outcome.key} className={`badge delivery-${outcome.status}`} title={outcome.detail}>
          {outcome.channel}: {outcome.status}
        </span>
      ))}
      {!shown && outcomes.length === 0 && (
        <button type="button" className="link" onClick={() => setShown(true)}>
          Deliveries
        </button>
      )}
      <ErrorNote error={recorded.error} />
    </div>
  );
}
