// The in-memory store runs the shared EventStore contract suite, with the
// default limits and with tight ones, in both its layouts.
import { defaultLimits, type Limits } from "../../src/limits.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { eventStoreContract } from "../contract/event-store-contract.js";

eventStoreContract("memory", async () => ({ store: createMemoryEventStore() }));
eventStoreContract("memory, objects layout", async () => ({ store: createMemoryEventStore({ layout: "objects" }) }));

const tight: Limits = { ...defaultLimits, maxNameLength: 40, maxMetadataEntries: 3, maxMetadataSize: 100, maxBatchEvents: 64 };
eventStoreContract("memory, tight limits", async () => ({ store: createMemoryEventStore({ limits: tight }) }), { limits: tight });
