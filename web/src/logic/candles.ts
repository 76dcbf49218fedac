/**
 * One-minute candles of one market (a symbol on one venue) kept up to date tick by tick,
 * the way the `venue_candles` read model folds them: by the venue's time of each tick
 * (`source_time`), first tick opens, last closes. The page starts from the read model's
 * candles of the chosen venue and folds that venue's live ticks into them: every venue
 * is a market of its own, and mixing them would draw one venue's price as another's
 * spike.
 */

export interface Candle {
  /** Start of the minute, in seconds since the epoch (what the chart takes). */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface TickLike {
  price: number;
  volume?: number;
  source_time: string;
}

export function minuteOf(isoTime: string): number {
  const ms = Date.parse(isoTime);
  return Math.floor(ms / 60_000) * 60;
}

/**
 * Fold one tick into `candles` (sorted by time). Returns the candle it changed or
 * opened, or null for a tick older than the last candle's minute whose minute is not
 * shown (a late tick of a slow venue: the read model holds it, the chart can redraw).
 */
export function foldTick(candles: Candle[], tick: TickLike): Candle | null {
  const time = minuteOf(tick.source_time);
  const volume = tick.volume ?? 0;
  const last = candles[candles.length - 1];
  if (!last || time > last.time) {
    const opened = { time, open: tick.price, high: tick.price, low: tick.price, close: tick.price, volume };
    candles.push(opened);
    return opened;
  }
  const index = last.time === time ? candles.length - 1 : candles.findIndex((candle) => candle.time === time);
  const candle = candles[index];
  if (!candle) return null;
  candle.high = Math.max(candle.high, tick.price);
  candle.low = Math.min(candle.low, tick.price);
  candle.close = tick.price;
  candle.volume += volume;
  return candle;
}

/**
 * Whether the chart must take `candle` as a historical update: a late tick changed a
 * candle before the last one (lightweight-charts refuses a plain update of an older bar,
 * "Cannot update oldest data", and would not redraw it).
 */
export function isHistorical(candles: Candle[], candle: Candle): boolean {
  const last = candles[candles.length - 1];
  return last !== undefined && candle.time < last.time;
}

/** Read-model candles (`CandlePublic`) as chart candles, oldest first. */
export function fromReadModel(
  items: { minute: string; open: number; high: number; low: number; close: number; volume: number }[],
): Candle[] {
  return items
    .map((item) => ({
      time: minuteOf(item.minute),
      open: item.open,
      high: item.high,
      low: item.low,
      close: item.close,
      volume: item.volume,
    }))
    .sort((a, b) => a.time - b.time);
}

/** The venues quoting `symbol`, sorted, from the rows of the price table. */
export function venuesOf(rows: { symbol: string; venue: string }[], symbol: string): string[] {
  return [...new Set(rows.filter((row) => row.symbol === symbol).map((row) => row.venue))].sort();
}

/** The venue to chart: the one asked for while it quotes the symbol, else the first. */
export function chartVenue(venues: string[], wanted: string | null): string | null {
  return wanted !== null && venues.includes(wanted) ? wanted : (venues[0] ?? null);
}
