/** A candle chart (lightweight-charts) fed by the read model, then by live ticks. */
import { CandlestickSeries, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef } from "react";
import type { Candle } from "../../logic/candles";

export interface ChartHandle {
  /** Redraw `candle`; `historical` when it is not the last one (a late tick's minute). */
  update: (candle: Candle, historical: boolean) => void;
}

function point(candle: Candle) {
  return { time: candle.time as UTCTimestamp, open: candle.open, high: candle.high, low: candle.low, close: candle.close };
}

export function CandleChart({ candles, label, onReady }: { candles: Candle[]; label: string; onReady: (handle: ChartHandle | null) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const chart = useRef<IChartApi | null>(null);

  useEffect(() => {
    if (!box.current) return undefined;
    const created = createChart(box.current, {
      autoSize: true,
      layout: { attributionLogo: false },
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    chart.current = created;
    series.current = created.addSeries(CandlestickSeries);
    onReady({
      update: (candle, historical) => {
        series.current?.update(point(candle), historical);
        if (!historical) box.current?.setAttribute("data-last-close", String(candle.close));
        else box.current?.setAttribute("data-late-close", String(candle.close));
        box.current?.setAttribute("data-updated-at", String(performance.now()));
      },
    });
    return () => {
      onReady(null);
      created.remove();
      chart.current = null;
      series.current = null;
    };
  }, [onReady]);

  useEffect(() => {
    series.current?.setData(candles.map(point));
    const last = candles[candles.length - 1];
    if (last) box.current?.setAttribute("data-last-close", String(last.close));
  }, [candles]);

  return <div className="chart" ref={box} role="img" aria-label={label} data-testid="candle-chart" />;
}
