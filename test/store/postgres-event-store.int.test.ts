// The PostgreSQL store runs the shared EventStore contract suite, in both position
// modes (adr/0005). Each contract run has a schema of its own in this file's database;
// every case gets a fresh store on it, emptied afterwards (TRUNCATE and position reset,
// much faster than a new schema per case).
import { defaultLimits, type Limits } from "../../src/limits.js";
import { createPostgresEventStore, type PositionMode } from "../../src/store/postgres/postgres-event-store.js";
import { eventStoreContract } from "../contract/event-store-contract.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

describePostgres("PostgreSQL store", () => {
  const db = useTestDatabase("contract");
  const factory = (positions: PositionMode, limits: Limits = defaultLimits) => {
    const schema = db.newSchema(positions.replace("-", "_"));
    return async () => {
      const store = await createPostgresEventStore({ connectionString: db.url, schema, positions, limits, poolSize: 4 });
      const cleanup = async () => {
        await db.query(
          `TRUNCATE ${schema}.events, ${schema}.runs, ${schema}.snapshots;
           ALTER SEQUENCE ${schema}.positions RESTART;
           UPDATE ${schema}.log_head SET position = 0;`,
        );
      };
      return { store, cleanup };
    };
  };
  eventStoreContract("postgres (xid-gated positions, the default)", factory("xid-gated"));
  eventStoreContract("postgres (serialized positions)", factory("serialized"));
  const tight: Limits = { ...defaultLimits, maxNameLength: 40, maxMetadataEntries: 3, maxMetadataSize: 100, maxBatchEvents: 64 };
  eventStoreContract("postgres, tight limits", factory("xid-gated", tight), { limits: tight });
});
