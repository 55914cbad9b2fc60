// The PostgreSQL store runs the shared EventStore contract suite, in both position
// modes (adr/0005), each case on a fresh schema of this file's own database.
import { defaultLimits, type Limits } from "../../src/limits.js";
import { createPostgresEventStore, type PositionMode } from "../../src/store/postgres/postgres-event-store.js";
import { eventStoreContract } from "../contract/event-store-contract.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

describePostgres("PostgreSQL store", () => {
  const db = useTestDatabase("contract");
  const factory = (positions: PositionMode, limits: Limits = defaultLimits) => async () => {
    const schema = db.newSchema(positions.replace("-", "_"));
    const store = await createPostgresEventStore({ connectionString: db.url, schema, positions, limits, poolSize: 4 });
    return { store, cleanup: () => db.dropSchema(schema) };
  };
  eventStoreContract("postgres (serialized positions)", factory("serialized"));
  eventStoreContract("postgres (xid-gated positions)", factory("xid-gated"));
  const tight: Limits = { ...defaultLimits, maxNameLength: 40, maxMetadataEntries: 3, maxMetadataSize: 100, maxBatchEvents: 64 };
  eventStoreContract("postgres, tight limits", factory("serialized", tight), { limits: tight });
});
