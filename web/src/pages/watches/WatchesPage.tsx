/**
 * What the trader follows beyond prices (wallets, accounts, keywords), where alerts go
 * (channels), and when they must wait (quiet hours); linking a chat, and deleting the
 * account.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import type { Accepted, ChannelAdded, Me, WalletWatched, WatchList } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, ExtraFields, Loading, Section } from "../../components/common";
import { ChannelTest } from "./ChannelTest";
import { DeleteAccount } from "./DeleteAccount";
import { LinkChat } from "./LinkChat";

export default function WatchesPage() {
  return (
    <div className="watches">
      <Watches />
      <Channels />
      <LinkChat />
      <DeleteAccount />
    </div>
  );
}

/** Run a command, then re-read `key` after its position (read your writes). */
function useCommand(key: string) {
  const queries = useQueryClient();
  const [after, setAfter] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (command: () => Promise<Accepted>) => {
    setError(null);
    try {
      const receipt = await command();
      setAfter(receipt.position);
      await queries.invalidateQueries({ queryKey: [key] });
      return receipt;
    } catch (failure) {
      setError(failure);
      return null;
    }
  };
  return { after, error, run };
}

export function Watches() {
  const { api } = useSession();
  const command = useCommand("watches");
  /** What a wallet watch waits for (no chain watcher), as its receipt says. */
  const [walletNote, setWalletNote] = useState<string | null>(null);
  const watches = useQuery({
    queryKey: ["watches", command.after],
    queryFn: () => api.get<WatchList>("/v1/watches", { after: command.after }),
    placeholderData: (previous) => previous,
  });
  const data = watches.data;
  return (
    <Section title="Watches">
      {watches.isLoading && <Loading what="watches" />}
      <ErrorNote error={watches.error ?? command.error} />
      <h3>Wallets</h3>
      <ul>
        {data?.wallets.map((wallet) => (
          <li key={wallet.address}>
            <code>{wallet.address}</code> {wallet.label} {wallet.ens}
            <ExtraFields record={wallet} known={["address", "label", "ens"]} />
            <button type="button" onClick={() => void command.run(() => api.delete(`/v1/watches/wallets/${encodeURIComponent(wallet.address)}`))}>
              Stop watching
            </button>
          </li>
        ))}
      </ul>
      <OneLineForm
        label="Watch a wallet (address)"
        id="wallet"
        onSubmit={async (address) => {
          const receipt = (await command.run(() => api.post<WalletWatched>("/v1/watches/wallets", { address }))) as WalletWatched | null;
          setWalletNote(receipt && !receipt.chain_watched ? (receipt.detail ?? null) : null);
          return receipt;
        }}
      />
      {walletNote && (
        <p className="muted" role="status" data-testid="wallet-note">
          {walletNote}
        </p>
      )}
      <h3>Accounts</h3>
      <ul>
        {data?.accounts.map((account) => (
          <li key={`${account.platform}:${account.handle}`}>
            {account.platform} {account.handle}
            <button
              type="button"
              onClick={() => void command.run(() => api.delete(`/v1/watches/accounts/${account.platform}/${encodeURIComponent(account.handle)}`))}
            >
              Unfollow
            </button>
          </li>
        ))}
      </ul>
      <OneLineForm
        label="Follow an account on X (handle)"
        id="account"
        onSubmit={(handle) => command.run(() => api.post("/v1/watches/accounts", { platform: "x", handle }))}
      />
      <h3>Keywords</h3>
      <ul>
        {data?.keywords.map((keyword) => (
          <li key={keyword}>
            {keyword}
            <button type="button" onClick={() => void command.run(() => api.delete(`/v1/watches/keywords/${encodeURIComponent(keyword)}`))}>
              Unfollow
            </button>
          </li>
        ))}
      </ul>
      <OneLineForm label="Follow a keyword" id="keyword" onSubmit={(keyword) => command.run(() => api.post("/v1/watches/keywords", { keyword }))} />
    </Section>
  );
}

function OneLineForm({ label, id, onSubmit, children }: { label: string; id: string; onSubmit: (value: string) => Promise<unknown>; children?: ReactNode }) {
  const [value, setValue] = useState("");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if ((await onSubmit(value.trim())) !== null) setValue("");
  };
  return (
    <form className="inline" onSubmit={(event) => void submit(event)}>
      <label htmlFor={`add-${id}`}>{label}</label>
      <input id={`add-${id}`} value={value} onChange={(event) => setValue(event.target.value)} required />
      {children}
      <button type="submit" disabled={!value.trim()}>
        Add
      </button>
    </form>
  );
}

type ChannelKind = "telegram" | "discord" | "discord_webhook" | "webhook";

function Channels() {
  const { api } = useSession();
  const command = useCommand("me");
  const me = useQuery({
    queryKey: ["me", command.after],
    queryFn: () => api.get<Me>("/v1/me", { after: command.after }),
    placeholderData: (previous) => previous,
  });
  const [kind, setKind] = useState<ChannelKind>("webhook");
  const [channelId, setChannelId] = useState("");
  const [target, setTarget] = useState("");
  const [secret, setSecret] = useState<string | null>(null);

  const channelOf = () => {
    switch (kind) {
      case "telegram":
        return { kind, chat_id: Number(target) };
      case "discord":
        return { kind, target: "channel", id: target };
      default:
        return { kind, url: target };
    }
  };
  const add = async (event: FormEvent) => {
    event.preventDefault();
    const added = (await command.run(() => api.post<ChannelAdded>("/v1/channels", { channel_id: channelId, channel: channelOf() }))) as ChannelAdded | null;
    if (added) {
      setSecret(added.signing_secret ?? null);
      setChannelId("");
      setTarget("");
    }
  };
  const hours = me.data?.quiet_hours;
  return (
    <Section title="Channels and quiet hours">
      <ErrorNote error={me.error ?? command.error} />
      <ul>
        {me.data?.channels.map((channel) => (
          <li key={channel.channel_id} data-testid="channel">
            <strong>{channel.channel_id}</strong> <span className="badge">{channel.kind}</span>
            <ExtraFields record={channel} known={["channel_id", "kind"]} />
            <ChannelTest channelId={channel.channel_id} />
            <button type="button" onClick={() => void command.run(() => api.delete(`/v1/channels/${encodeURIComponent(channel.channel_id)}`))}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <p className="muted">A test goes out at once, even in quiet hours, and counts toward the channel's rate limit.</p>
      {secret && (
        <p className="notice" role="status">
          The webhook's signing secret, shown this once: <code>{secret}</code>
        </p>
      )}
      <form className="inline" onSubmit={(event) => void add(event)} aria-label="Add a channel">
        <label htmlFor="channel-kind">Kind</label>
        <select id="channel-kind" value={kind} onChange={(event) => setKind(event.target.value as ChannelKind)}>
          <option value="webhook">webhook</option>
          <option value="telegram">Telegram chat</option>
          <option value="discord">Discord channel (our bot)</option>
          <option value="discord_webhook">Discord webhook</option>
        </select>
        <label htmlFor="channel-id">Name</label>
        <input id="channel-id" value={channelId} onChange={(event) => setChannelId(event.target.value)} required />
        <label htmlFor="channel-target">{kind === "telegram" ? "Chat id" : kind === "discord" ? "Channel id" : "URL"}</label>
        <input id="channel-target" value={target} onChange={(event) => setTarget(event.target.value)} required />
        <button type="submit">Add channel</button>
      </form>
      <h3>Quiet hours</h3>
      <p>{hours ? `Deliveries wait from ${hours.start} to ${hours.end} (${hours.timezone}).` : "Deliveries go out at any hour."}</p>
      {/* Keyed on the saved hours: the form starts from them (and again once they change). */}
      <QuietHoursForm
        key={JSON.stringify(hours ?? null)}
        saved={hours ?? null}
        onSave={(quiet) => void command.run(() => api.put("/v1/me/quiet-hours", quiet))}
        onClear={() => void command.run(() => api.delete("/v1/me/quiet-hours"))}
      />
    </Section>
  );
}

interface QuietHours {
  start: string;
  end: string;
  timezone: string;
}

/** The quiet-hours form, starting from the saved hours, else 22:00 to 07:00 here. */
export function QuietHoursForm({ saved, onSave, onClear }: { saved: QuietHours | null; onSave: (quiet: QuietHours) => void; onClear: () => void }) {
  const [quiet, setQuiet] = useState<QuietHours>(() =>
    saved ? { start: saved.start, end: saved.end, timezone: saved.timezone } : { start: "22:00", end: "07:00", timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" },
  );
  return (
    <form
      className="inline"
      onSubmit={(event) => {
        event.preventDefault();
        onSave(quiet);
      }}
      aria-label="Quiet hours"
    >
      <label htmlFor="quiet-start">From</label>
      <input id="quiet-start" type="time" value={quiet.start} onChange={(event) => setQuiet({ ...quiet, start: event.target.value })} />
      <label htmlFor="quiet-end">To</label>
      <input id="quiet-end" type="time" value={quiet.end} onChange={(event) => setQuiet({ ...quiet, end: event.target.value })} />
      <label htmlFor="quiet-zone">Time zone</label>
      <input id="quiet-zone" value={quiet.timezone} onChange={(event) => setQuiet({ ...quiet, timezone: event.target.value })} />
      <button type="submit">Set quiet hours</button>
      {saved && (
        <button type="button" onClick={onClear}>
          Clear
        </button>
      )}
    </form>
  );
}
