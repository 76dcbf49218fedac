/**
 * A channel test's outcome as the page tells it: the notify handler records it as a
 * notification whose `subject_event_id` is the test's id (live on the `notifications`
 * topic, and in the notifications read model), sent or failed with the channel's fixed
 * message (`HTTP 204`, `webhook: HTTP 404 (refused)`, never what a server answered).
 */
import type { NotificationPublic } from "../api/types";
import type { LiveEvent } from "../live/protocol";

export interface TestOutcome {
  status: "sent" | "failed";
  /** The channel's answer when sent, why it failed otherwise. */
  detail: string;
}

/** How long the page waits for an outcome before saying none came. */
export const OUTCOME_WAIT_MS = 60_000;

/** The outcome a live event carries, if it is the outcome of test `testId`. */
export function outcomeOfEvent(event: LiveEvent, testId: string): TestOutcome | null {
  if (event.payload.subject_event_id !== testId) return null;
  if (event.type === "notification.sent") return { status: "sent", detail: String(event.payload.response ?? "") };
  if (event.type === "notification.failed") return { status: "failed", detail: String(event.payload.error ?? "") };
  return null;
}

/** The outcome the read model holds (the first of test `testId`'s notifications). */
export function outcomeOfNotifications(items: NotificationPublic[] | undefined): TestOutcome | null {
  const found = items?.[0];
  if (!found) return null;
  return found.status === "sent" ? { status: "sent", detail: found.response ?? "" } : { status: "failed", detail: found.error ?? "" };
}

/** One sentence for the person who pressed the button. */
export function describeOutcome(outcome: TestOutcome | null, waitedMs: number): string {
  if (outcome?.status === "sent") return outcome.detail ? `Delivered (${outcome.detail}).` : "Delivered.";
  if (outcome?.status === "failed") return `Failed: ${outcome.detail}`;
  if (waitedMs >= OUTCOME_WAIT_MS) return "No outcome yet: the notify worker may not be running (impressox worker notify).";
  return "Sending…";
}
