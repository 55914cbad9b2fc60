// A cheap upper-bound-ish estimate of an event's encoded size, used to keep one
// EventBatch well below the message size clients accept by default (4 MiB for
// most gRPC implementations) without encoding every event twice. Strings count
// their UTF-16 length (exact for ASCII; the batch budget leaves room for the rest).

/** Estimated protobuf size of a message-shaped value, in bytes. */
export function estimateSize(value: unknown): number {
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
    case "bigint":
      return 10;
    case "boolean":
      return 2;
    case "object": {
      if (value === null) return 0;
      if (value instanceof Uint8Array) return value.byteLength + 2;
      let size = 2;
      if (Array.isArray(value)) {
        for (const item of value) size += estimateSize(item);
        return size;
      }
      for (const key in value) {
        if (key.charCodeAt(0) === 36 /* "$": $typeName */) continue;
        size += estimateSize((value as Record<string, unknown>)[key]) + 1;
      }
      return size;
    }
    default:
      return 0;
  }
}
