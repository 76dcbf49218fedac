import { render } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Candle } from "../../logic/candles";
import { CandleChart, type ChartHandle } from "./CandleChart";

/** A series that refuses a plain update of an older bar, as lightweight-charts does. */
const calls: { time: number; historical: boolean | undefined }[] = [];
vi.mock("lightweight-charts", () => ({
  CandlestickSeries: {},
  createChart: () => {
    let last = 0;
    return {
      addSeries: () => ({
        setData: (data: { time: number }[]) => {
          last = data[data.length - 1]?.time ?? 0;
        },
        update: (bar: { time: number }, historical?: boolean) => {
          if (bar.time < last && !historical) throw new Error("Cannot update oldest data");
          calls.push({ time: bar.time, historical });
          last = Math.max(last, bar.time);
        },
      }),
      remove: () => undefined,
    };
  },
}));

const candle = (time: number, close: number): Candle => ({ time, open: close, high: close, low: close, close, volume: 0 });

describe("the candle chart", () => {
  it("redraws an earlier candle as a historical update, keeping the last close shown", () => {
    let handle: ChartHandle | null = null;
    const { getByTestId } = render(<CandleChart candles={[candle(60, 1), candle(120, 2)]} label="chart" onReady={(h) => (handle = h)} />);
    const chart = handle as unknown as ChartHandle;
    chart.update(candle(60, 5), true);
    chart.update(candle(120, 3), false);
    expect(calls).toEqual([
      { time: 60, historical: true },
      { time: 120, historical: false },
    ]);
    expect(getByTestId("candle-chart").getAttribute("data-last-close")).toBe("3");
  });
});
