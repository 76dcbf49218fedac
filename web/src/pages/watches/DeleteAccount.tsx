/**
 * *Delete your account* (`DELETE /v1/me`): every key revoked (this one too, so the page
 * signs out), the rules deleted, the watches cleared, the chats unlinked. What it keeps
 * is said before the trader confirms: the event history is never erased. Confirming
 * takes typing "delete", so no stray click or keypress deletes an account.
 */
import { useState } from "react";
import type { UserDeleted } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, Section } from "../../components/common";

const CONFIRM_WORD = "delete";

export function DeleteAccount() {
  const { api, signOut } = useSession();
  const [asked, setAsked] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState(false);

  const remove = async () => {
    setError(null);
    setDeleting(true);
    try {
      await api.delete<UserDeleted>("/v1/me");
      signOut();
    } catch (failure) {
      setError(failure);
      setDeleting(false);
    }
  };

  return (
    <Section title="Delete your account">
      <p>
        Revokes every key of yours (this one too: you are signed out), deletes your alert rules, clears what you watch
        and unlinks your chats. The history of what happened is kept, as every event is.
      </p>
      {!asked ? (
        <button type="button" className="danger" onClick={() => setAsked(true)}>
          Delete my account…
        </button>
      ) : (
        <form
          aria-label="Confirm the deletion"
          onSubmit={(event) => {
            event.preventDefault();
            void remove();
          }}
        >
          <ErrorNote error={error} />
          <label>
            Type {CONFIRM_WORD} to confirm
            <input value={typed} onChange={(event) => setTyped(event.target.value)} autoComplete="off" />
          </label>
          <button type="submit" className="danger" disabled={typed.trim().toLowerCase() !== CONFIRM_WORD || deleting}>
            Delete my account
          </button>
          <button type="button" onClick={() => setAsked(false)} disabled={deleting}>
            Keep it
          </button>
        </form>
      )}
    </Section>
  );
}
