// Flat strings for what a store keeps as strings (the memory store's step-name
// column): kept as long as the store, so a few nanoseconds at append buy bytes
// for every event held (bench/OPTIMISATIONS.md, "the store flattens…"). Events
// themselves are kept as bytes now, so their sub-messages need no compacting.

/**
 * Strings built by concatenation (a traceparent from a template literal, say) are
 * V8 cons-string trees, several times the size of their characters: flattening the
 * metadata of the benchmark's realistic events took 10,000 of them from 12.0 to
 * 8.8 MB. Reading a character flattens a string in place and leaves the tree to
 * the GC. Strings of 12 characters or fewer are never cons strings; decoded
 * strings (everything from the wire) are flat already and cost one load.
 */
export function flat(value: string): string {
  if (value.length > 12) flatSink ^= value.charCodeAt(0);
  return value;
}
/** Written so that the engine cannot drop flat()'s read as unused. */
let flatSink = 0;
