/** Sign-in with an API key: checked against the API before it is kept (this tab only). */
import { useState, type FormEvent } from "react";
import type { Me } from "../api/types";
import { rememberKey, signIn } from "../auth/session";
import { ErrorNote } from "../components/common";

export function SignIn({ onSignedIn }: { onSignedIn: (key: string, me: Me) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await signIn(key.trim());
      rememberKey(key.trim());
      onSignedIn(key.trim(), me);
    } catch (refused) {
      setError(refused);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin" id="main">
      <h1>Impressox</h1>
      <p>Sign in with an API key. `make run` prints an admin key and a demo trader's key on the first run.</p>
      <form onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          placeholder="ixk_…"
          value={key}
          onChange={(event) => setKey(event.target.value)}
          required
        />
        <button type="submit" disabled={busy || key.trim() === ""}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
      <ErrorNote error={error} />
      <p className="muted">The key stays in this tab's session storage and is sent only to this server.</p>
    </main>
  );
}
