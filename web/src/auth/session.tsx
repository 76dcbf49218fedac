/**
 * Who is signed in: the API key (in this tab's session storage, never in a URL), the
 * account it belongs to (`GET /v1/me`), the API client and the live connection made
 * with it. What a key's scope forbids is not shown: pages ask `canTrade` / `isAdmin`.
 */
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiClient } from "../api/client";
import type { Me } from "../api/types";
import { LiveConnection, liveUrl } from "../live/connection";

const STORAGE_KEY = "impressox.key";

export interface Session {
  key: string;
  me: Me;
  api: ApiClient;
  live: LiveConnection;
  isAdmin: boolean;
  canTrade: boolean;
  signOut: () => void;
}

/** Exported for component tests, which provide a session of their own. */
export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function rememberKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Check a key against the API: its account, or the API's refusal (ApiError). */
export function signIn(key: string): Promise<Me> {
  return new ApiClient(key).get<Me>("/v1/me");
}

export function SessionProvider({ keyValue, me, onSignOut, children }: { keyValue: string; me: Me; onSignOut: () => void; children: ReactNode }) {
  // Made in an effect, not during render: a closed connection stays closed, and React may
  // run an effect's cleanup and the effect again (StrictMode in development).
  const [live, setLive] = useState<LiveConnection | null>(null);
  useEffect(() => {
    const connection = new LiveConnection({ url: liveUrl(window.location), key: keyValue });
    setLive(connection);
    return () => connection.close();
  }, [keyValue]);
  const session = useMemo<Session | null>(() => {
    if (!live) return null;
    const isAdmin = me.scopes.includes("admin");
    return {
      key: keyValue,
      me,
      api: new ApiClient(keyValue),
      live,
      isAdmin,
      canTrade: isAdmin || me.scopes.includes("user"),
      signOut: () => {
        forgetKey();
        live.close();
        onSignOut();
      },
    };
  }, [keyValue, me, live, onSignOut]);
  if (!session) return null;
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
