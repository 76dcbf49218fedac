/**
 * *Link Telegram or Discord*: a one-time code (`POST /v1/link-codes`) the trader sends to
 * our bot as `/link CODE`, so that chat talks to this account (its rules, memory and
 * alerts). The code is shown here once; the server keeps only its hash, and it expires.
 */
import { useState } from "react";
import type { IssuedLinkCode } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Section } from "../../components/common";

export function LinkChat() {
  const { api } = useSession();
  const [issued, setIssued] = useState<IssuedLinkCode | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [asking, setAsking] = useState(false);

  const issue = async () => {
    setError(null);
    setAsking(true);
    try {
      setIssued(await api.post<IssuedLinkCode>("/v1/link-codes"));
    } catch (failure) {
      setError(failure);
    } finally {
      setAsking(false);
    }
  };

  return (
    <Section title="Link Telegram or Discord">
      <ErrorNote error={error} />
      <p>Talk to the agent from a chat with our bot, with the same rules, memory and alerts as here.</p>
      <button type="button" onClick={() => void issue()} disabled={asking}>
        Get a link code
      </button>
      {issued && (
        <p className="notice" role="status" data-testid="link-code">
          Send <code>/link {issued.code}</code> to the bot, in Telegram or Discord, before{" "}
          {new Date(issued.expires_at).toLocaleTimeString()}. The code works once.
        </p>
      )}
    </Section>
  );
}
