// Typed columns for the memory store's per-event facts: numbers and bytes in
// ArrayBuffers, which the garbage collector never scans, instead of arrays of
// heap values (bench/OPTIMISATIONS.md, "bytes-first memory store").

/** A column of unsigned 32-bit integers that grows by doubling. */
export class Column {
  private values = new Uint32Array(1024);
  get(index: number): number {
    return this.values[index]!;
  }
  set(index: number, value: number): void {
    if (index >= this.values.length) {
      const grown = new Uint32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[index] = value;
  }
}

