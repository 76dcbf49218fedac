/**
 * The page: sign-in until a key is accepted, then the navigation and the pages the
 * key's scopes allow. Trader pages need the `user` scope; operator pages `admin`.
 */
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { Navigate, NavLink, Route, Routes } from "react-router";
import type { Me } from "./api/types";
import { forgetKey, SessionProvider, signIn, storedKey, useSession } from "./auth/session";
import { Loading } from "./components/common";
import { useLiveStatus } from "./live/useTopic";
import { SignIn } from "./pages/SignIn";

const Chat = lazy(() => import("./pages/chat/ChatPage"));
const Markets = lazy(() => import("./pages/markets/MarketsPage"));
const Alerts = lazy(() => import("./pages/alerts/AlertsPage"));
const Watches = lazy(() => import("./pages/watches/WatchesPage"));
const Explorer = lazy(() => import("./pages/explorer/ExplorerPage"));
const Chain = lazy(() => import("./pages/explorer/ChainPage"));
const Aggregates = lazy(() => import("./pages/aggregates/AggregatesPage"));
const Handlers = lazy(() => import("./pages/handlers/HandlersPage"));
const ReadModels = lazy(() => import("./pages/readmodels/ReadModelsPage"));

type Signed = { key: string; me: Me } | null;

export function App() {
  const [signed, setSigned] = useState<Signed | "checking">(() => (storedKey() ? "checking" : null));
  const queries = useQueryClient();
  useEffect(() => {
    const key = storedKey();
    if (signed !== "checking" || !key) return;
    signIn(key).then(
      (me) => setSigned({ key, me }),
      () => {
        forgetKey();
        setSigned(null);
      },
    );
  }, [signed]);
  const signOut = useCallback(() => {
    queries.clear();
    setSigned(null);
  }, [queries]);
  if (signed === "checking") return <Loading what="your account" />;
  if (signed === null) return <SignIn onSignedIn={(key, me) => setSigned({ key, me })} />;
  return (
    <SessionProvider keyValue={signed.key} me={signed.me} onSignOut={signOut}>
      <Shell />
    </SessionProvider>
  );
}

function Shell() {
  const { me, isAdmin, canTrade, signOut } = useSession();
  const live = useLiveStatus();
  const home = canTrade ? "/chat" : isAdmin ? "/explorer" : "/nothing";
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <strong className="brand">Impressox</strong>
        <nav aria-label="Pages">
          {canTrade && (
            <>
              <NavLink to="/chat">Chat</NavLink>
              <NavLink to="/markets">Markets</NavLink>
              <NavLink to="/alerts">Alerts</NavLink>
              <NavLink to="/watches">Watches &amp; channels</NavLink>
            </>
          )}
          {isAdmin && (
            <>
              <NavLink to="/explorer">Streams</NavLink>
              <NavLink to="/aggregates">Aggregates</NavLink>
              <NavLink to="/handlers">Handlers</NavLink>
              <NavLink to="/read-models">Read models</NavLink>
            </>
          )}
        </nav>
        <span className={`live live-${live.status}`} role="status" title={live.detail ?? undefined}>
          live: {live.status}
          {live.status === "refused" && live.detail ? ` (${live.detail})` : ""}
        </span>
        <span className="who">{me.display_name ?? me.user_id}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Suspense fallback={<Loading what="the page" />}>
          <Routes>
            <Route path="/" element={<Navigate to={home} replace />} />
            {canTrade && <Route path="/chat" element={<Chat />} />}
            {canTrade && <Route path="/markets" element={<Markets />} />}
            {canTrade && <Route path="/alerts" element={<Alerts />} />}
            {canTrade && <Route path="/watches" element={<Watches />} />}
            {isAdmin && <Route path="/explorer" element={<Explorer />} />}
            {isAdmin && <Route path="/explorer/chain/:correlationId" element={<Chain />} />}
            {isAdmin && <Route path="/aggregates" element={<Aggregates />} />}
            {isAdmin && <Route path="/handlers" element={<Handlers />} />}
            {isAdmin && <Route path="/read-models" element={<ReadModels />} />}
            <Route
              path="*"
              element={
                canTrade || isAdmin ? (
                  <p>This page does not exist, or this key may not see it.</p>
                ) : (
                  <p>This key has neither the user nor the admin scope (an ingest key?): there is nothing here it may see.</p>
                )
              }
            />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}
