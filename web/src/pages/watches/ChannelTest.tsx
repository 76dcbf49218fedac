/**
 * *Send a test* for one channel: `POST /v1/channels/{id}/test`, then the outcome the
 * notify handler records for it, shown beside the button (delivered, or failed with the
 * channel's fixed message). The outcome comes live on the `notifications` topic; a read
 * each second covers a test answered before the page followed the topic.
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { ChannelTestAccepted, NotificationPublic, Page } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote } from "../../components/common";
import { describeOutcome, OUTCOME_WAIT_MS, outcomeOfEvent, outcomeOfNotifications, type TestOutcome } from "../../logic/channelTest";
import { useTopic } from "../../live/useTopic";

interface Sent {
  id: string;
  at: number;
}

export function ChannelTest({ channelId }: { channelId: string }) {
  const { api } = useSession();
  const [sent, setSent] = useState<Sent | null>(null);
  const [live, setLive] = useState<TestOutcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const [now, setNow] = useState(() => Date.now());

  useTopic(sent ? "notifications" : null, (message) => {
    if (sent && message.type === "event") setLive((current) => current ?? outcomeOfEvent(message.event, sent.id));
  });
  const waitedMs = sent ? now - sent.at : 0;
  const recorded = useQuery({
    queryKey: ["channel-test", sent?.id],
    enabled: sent !== null && live === null,
    queryFn: () => api.get<Page<NotificationPublic>>("/v1/notifications", { subject_event_id: sent?.id, limit: 10 }),
    refetchInterval: (query) => (query.state.data?.items.length || waitedMs >= OUTCOME_WAIT_MS ? false : 1_000),
  });
  const outcome = live ?? outcomeOfNotifications(recorded.data?.items);
  useEffect(() => {
    if (!sent || outcome) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [sent, outcome]);

  const send = async () => {
    setError(null);
    setSending(true);
    try {
      const accepted = await api.post<ChannelTestAccepted>(`/v1/channels/${encodeURIComponent(channelId)}/test`);
      setLive(null);
      setNow(Date.now());
      setSent({ id: accepted.id, at: Date.now() });
    } catch (failure) {
      setError(failure);
    } finally {
      setSending(false);
    }
  };

  return (
    <span className="channel-test">
      <button type="button" onClick={() => void send()} disabled={sending || (sent !== null && !outcome && waitedMs < OUTCOME_WAIT_MS)} aria-label={`Send a test to ${channelId}`}>
        Send a test
      </button>
      {sent && (
        <span role="status" data-testid="channel-test-outcome" className={outcome ? `delivery-${outcome.status}` : "muted"}>
          {describeOutcome(outcome, waitedMs)}
        </span>
      )}
      <ErrorNote error={error ?? recorded.error} />
    </span>
  );
}
