// The benchmark report's number formatting (bench/lib/format.ts): what RESULTS.md prints.
import { describe, expect, it } from "vitest";
import { formatNumber, formatRatio } from "../../bench/lib/format.js";

describe("bench report formatting", () => {
  it("prints ratios with two decimals, and very small ones with two significant digits instead of 0.00×", () => {
    expect(formatRatio(1.234)).toBe("1.23×");
    expect(formatRatio(0.5)).toBe("0.50×");
    expect(formatRatio(0.01)).toBe("0.01×");
    expect(formatRatio(0.000534)).toBe("0.00053×");
    expect(formatRatio(0)).toBe("0.00×");
    expect(formatRatio(Number.NaN)).toBe("–");
    expect(formatRatio(Number.POSITIVE_INFINITY)).toBe("–");
  });

  it("prints numbers with three significant digits, thousands separated", () => {
    expect(formatNumber(1_234_567)).toBe("1,230,000");
    expect(formatNumber(0.01234)).toBe("0.0123");
    expect(formatNumber(0)).toBe("0");
  });
});
