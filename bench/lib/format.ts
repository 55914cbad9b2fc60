// Number formatting for the printed table and RESULTS.md.

/** 3 significant digits, thousands separated: 1,234,567 → "1,230,000"; 0.01234 → "0.0123". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 1000) {
    const digits = Math.floor(Math.log10(abs)) + 1;
    const rounded = Math.round(value / 10 ** (digits - 3)) * 10 ** (digits - 3);
    return rounded.toLocaleString("en-US");
  }
  return Number(value.toPrecision(3)).toString();
}

/** Two decimals; below 0.01 (a ratio of very different speeds), 2 significant digits: 0.00053 → "0.00053×". */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value !== 0 && Math.abs(value) < 0.01) return `${Number(value.toPrecision(2))}×`;
  return `${value.toFixed(2)}×`;
}

/** A plain-text table with right-aligned numeric columns. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[]): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}
