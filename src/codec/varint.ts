// Varints written outside the compiled encoders: the lengths and fields that the
// server assembles into messages itself (page-bytes.ts, subscription batches,
// the memory store's normalized fields).

/** The bytes of `n` (a non-negative integer up to 2^53) as a varint. */
export function varintSize(n: number): number {
  if (n < 0x10000000) return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
  let size = 4;
  for (n = Math.floor(n / 0x10000000); n > 0; n = Math.floor(n / 128)) size++;
  return size;
}

/** Writes `n` (a non-negative integer up to 2^53) as a varint at `at`; returns where it ends. */
export function writeVarint(into: Uint8Array, at: number, n: number): number {
  while (n > 0x7fffffff) {
    into[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  while (n > 0x7f) {
    into[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  into[at++] = n;
  return at;
}
