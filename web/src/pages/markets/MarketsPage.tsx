/**
 * Markets: the latest price per symbol and venue, live, and a candle chart of one symbol
 * on one venue (a selector lists the venues quoting it) that updates on every tick of
 * that venue. Simulated prices are labelled as such.
 */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { CandlePublic, Page, PricePublic } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorNote, ExtraFields, Loading, Section, Time } from "../../components/common";
import { chartVenue, foldTick, fromReadModel, isHistorical, venuesOf, type Candle, type TickLike } from "../../logic/candles";
import type { TopicMessage } from "../../live/protocol";
import { useFeedStart, useTopic } from "../../live/useTopic";
import { CandleChart, type ChartHandle } from "./CandleChart";

interface Quote {
  symbol: string;
  venue: string;
  price: number;
  simulated: boolean;
  at: string;
}

const PRICE_FIELDS = ["symbol", "price", "venue", "volume", "source_time", "simulated", "updated_at", "position"] as const;
const HISTORY_MINUTES = 120;

export default function MarketsPage() {
  const { api } = useSession();
  const prices = useQuery({ queryKey: ["prices"], queryFn: () => api.get<Page<PricePublic>>("/v1/prices", { limit: 100 }) });
  const [quotes, setQuotes] = useState<Map<string, Quote>>(new Map());
  const [chosen, setChosen] = useState<string | null>(null);
  const [wantedVenue, setWantedVenue] = useState<string | null>(null);
  const symbols = useMemo(() => [...new Set((prices.data?.items ?? []).map((p) => p.symbol))], [prices.data]);
  const symbol = chosen ?? symbols[0] ?? null;

  const rows = useMemo(() => {
    const merged = new Map<string, Quote>();
    for (const p of prices.data?.items ?? []) merged.set(`${p.symbol} ${p.venue}`, { symbol: p.symbol, venue: p.venue, price: p.price, simulated: p.simulated, at: p.source_time });
    for (const [id, quote] of quotes) merged.set(id, quote);
    return [...merged.values()].sort((a, b) => a.symbol.localeCompare(b.symbol) || a.venue.localeCompare(b.venue));
  }, [prices.data, quotes]);

  const onTick = useCallback((tick: Quote) => {
    setQuotes((current) => {
      const id = `${tick.symbol} ${tick.venue}`;
      const held = current.get(id);
      if (held && Date.parse(held.at) > Date.parse(tick.at)) return current; // a newer one is shown
      return new Map(current).set(id, tick);
    });
  }, []);
  const venues = useMemo(() => (symbol ? venuesOf(rows, symbol) : []), [rows, symbol]);
  const venue = chartVenue(venues, wantedVenue);
  const choose = (row: Quote) => {
    setChosen(row.symbol);
    setWantedVenue(row.venue);
  };

  return (
    <div className="markets">
      <Section title="Prices">
        {prices.isLoading && <Loading what="prices" />}
        <ErrorNote error={prices.error} />
        {symbols.map((s) => (
          <SymbolFeed key={s} symbol={s} onTick={onTick} />
        ))}
        <div className="scroll">
          <table>
            <caption className="visually-hidden">Latest price per symbol and venue</caption>
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col">Venue</th>
                <th scope="col">Price</th>
                <th scope="col">Seen</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.symbol} ${row.venue}`} data-testid={`price-${row.symbol}-${row.venue}`}>
                  <th scope="row">
                    <button
                      type="button"
                      className="link"
                      onClick={() => choose(row)}
                      aria-pressed={row.symbol === symbol && row.venue === venue}
                      aria-label={`Chart ${row.symbol} on ${row.venue}`}
                    >
                      {row.symbol}
                    </button>
                  </th>
                  <td>
                    {row.venue} {row.simulated && <span className="badge" title="From the market simulator, not a market">simulated</span>}
                  </td>
                  <td className="number">{row.price.toLocaleString(undefined, { maximumFractionDigits: 8 })}</td>
                  <td>
                    <Time value={row.at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {prices.data?.items.map((p) => (
          <ExtraFields key={p.symbol} record={p} known={PRICE_FIELDS} />
        ))}
        {prices.data && symbols.length === 0 && <p className="muted">No prices yet: start a price source (IMPRESSOX_SOURCES).</p>}
      </Section>
      {symbol && venue && (
        <Chart
          key={`${symbol} ${venue}`}
          symbol={symbol}
          venue={venue}
          venues={venues}
          onVenue={setWantedVenue}
          simulated={rows.some((r) => r.symbol === symbol && r.venue === venue && r.simulated)}
        />
      )}
    </div>
  );
}

function tickOf(message: TopicMessage): Quote | null {
  if (message.type !== "event" || message.event.type !== "price.tick") return null;
  const payload = message.event.payload as { symbol: string; venue: string; price: number; simulated?: boolean; source_time: string };
  return { symbol: payload.symbol, venue: payload.venue, price: payload.price, simulated: Boolean(payload.simulated), at: payload.source_time };
}

/**
 * One symbol's live prices. The table's first read may predate the feed's start; once the
 * feed starts, the symbol's prices are read again up to that point (`after_cursor`), so a tick in
 * between is not missed. A quote replaces one only if it is not older (by venue time).
 */
function SymbolFeed({ symbol, onTick }: { symbol: string; onTick: (quote: Quote) => void }) {
  const { api } = useSession();
  const after = useFeedStart(`prices:${symbol}`);
  const caughtUp = useQuery({
    queryKey: ["prices", symbol, after],
    enabled: Boolean(after),
    queryFn: () => api.get<Page<PricePublic>>("/v1/prices", { symbols: [symbol], limit: 100, after_cursor: after }),
    staleTime: Infinity,
  });
  useEffect(() => {
    for (const p of caughtUp.data?.items ?? []) onTick({ symbol: p.symbol, venue: p.venue, price: p.price, simulated: p.simulated, at: p.source_time });
  }, [caughtUp.data, onTick]);
  useTopic(`prices:${symbol}`, (message) => {
    const quote = tickOf(message);
    if (quote) onTick(quote);
  });
  return null;
}

interface ChartProps {
  symbol: string;
  venue: string;
  venues: string[];
  onVenue: (venue: string) => void;
  simulated: boolean;
}

function Chart({ symbol, venue, venues, onVenue, simulated }: ChartProps) {
  const { api } = useSession();
  const [start] = useState(() => new Date(Date.now() - HISTORY_MINUTES * 60_000).toISOString());
  // Follow the ticks first, then read the candles up to where the feed starts (`after_cursor`),
  // folding in the ticks that came meanwhile: none falls between the two. A tick in both
  // is folded twice, which changes only the volume, which the chart does not draw.
  const after = useFeedStart(`prices:${symbol}`);
  const history = useQuery({
    queryKey: ["candles", symbol, venue, start, after],
    enabled: after !== null,
    queryFn: () => api.get<Page<CandlePublic>>("/v1/candles", { symbol, venue, start, limit: 500, after_cursor: after }),
    staleTime: Infinity,
  });
  const candles = useRef<Candle[]>([]);
  const early = useRef<TickLike[]>([]);
  const chart = useRef<ChartHandle | null>(null);
  const initial = useMemo(() => {
    candles.current = fromReadModel(history.data?.items ?? []);
    if (history.data) for (const tick of early.current) foldTick(candles.current, tick);
    return [...candles.current];
  }, [history.data]);
  const onReady = useCallback((handle: ChartHandle | null) => {
    chart.current = handle;
  }, []);

  useTopic(`prices:${symbol}`, (message) => {
    if (message.type !== "event" || message.event.type !== "price.tick") return;
    const payload = message.event.payload as { venue: string; price: number; volume?: number; source_time: string };
    if (payload.venue !== venue) return; // another venue's market
    if (!history.data) {
      early.current.push(payload); // folded in once the candles are read
      return;
    }
    const changed = foldTick(candles.current, payload);
    if (changed) chart.current?.update(changed, isHistorical(candles.current, changed));
  });

  return (
    <Section
      title={`${symbol} on ${venue}, one-minute candles${simulated ? " (simulated prices)" : ""}`}
      actions={
        <span>
          <label htmlFor="chart-venue">Venue </label>
          <select id="chart-venue" value={venue} onChange={(event) => onVenue(event.target.value)}>
            {venues.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </span>
      }
    >
      <ErrorNote error={history.error} />
      <CandleChart candles={initial} label={`${symbol} candles on ${venue}`} onReady={onReady} />
      <p className="muted">This venue's candles, by its time; the last candle moves with each of its ticks.</p>
    </Section>
  );
}
