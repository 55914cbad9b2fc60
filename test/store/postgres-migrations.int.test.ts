// Schema by numbered migrations at start-up: idempotent, safe when several servers
// start at once, and guarded against a newer schema or another position mode.
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { createPostgresEventStore, type PostgresEventStore } from "../../src/store/postgres/postgres-event-store.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { migrations } from "../../src/store/postgres/migrations.js";
import { stepStarted, uniqueRunId } from "../support/events.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

describePostgres("PostgreSQL store: migrations", () => {
  const db = useTestDatabase("migrations");
  const opened: PostgresEventStore[] = [];

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  async function applied(schema: string): Promise<number[]> {
    const { rows } = await db.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    return rows.map((r) => r.version);
  }

  it("versions are numbered 1, 2, 3, … with no gap or repeat", () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it("six servers starting at once on a fresh schema: all start, each migration runs once", async () => {
    const schema = db.newSchema("race");
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => createPostgresEventStore({ connectionString: db.url, schema, poolSize: 2 })),
    );
    opened.push(...stores);
    expect(await applied(schema)).toEqual(migrations.map((m) => m.version));
    // And they share one store.
    const runId = uniqueRunId();
    await stores[0]!.append([stepStarted(runId)]);
    expect(await stores[5]!.getLastSequence(runId)).toBe(1n);
  });

  it("running the migrations again changes nothing", async () => {
    const schema = db.newSchema("again");
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await migrate(client, schema, "serialized")).applied).toEqual(migrations.map((m) => m.version));
      expect((await migrate(client, schema, "serialized")).applied).toEqual([]);
      expect(await applied(schema)).toEqual(migrations.map((m) => m.version));
    } finally {
      await client.end();
    }
  });

  it("refuses a schema made with the other position mode, a newer schema, and an unmigrated one with migrate: false", async () => {
    const schema = db.newSchema("guard");
    opened.push(await createPostgresEventStore({ connectionString: db.url, schema, positions: "serialized" }));
    await expect(createPostgresEventStore({ connectionString: db.url, schema, positions: "xid-gated" })).rejects.toThrow(
      /position mode "serialized"/,
    );
    // Started without migrating: fine on a current schema.
    opened.push(await createPostgresEventStore({ connectionString: db.url, schema, positions: "serialized", migrate: false }));
    await expect(
      createPostgresEventStore({ connectionString: db.url, schema: db.newSchema("absent"), migrate: false }),
    ).rejects.toThrow();

    await db.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (999, 'from the future')`);
    await expect(createPostgresEventStore({ connectionString: db.url, schema })).rejects.toThrow(/999/);
  });

  it("the xid gate's index exists only where readers gate on tx_id (xid-gated schemas)", async () => {
    const indexes = async (schema: string) =>
      (await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events' ORDER BY 1", [schema])).rows.map(
        (r) => r.indexname,
      );
    const gated = db.newSchema("gated");
    const serialized = db.newSchema("serial");
    opened.push(await createPostgresEventStore({ connectionString: db.url, schema: gated, positions: "xid-gated" }));
    opened.push(await createPostgresEventStore({ connectionString: db.url, schema: serialized, positions: "serialized" }));
    expect(await indexes(gated)).toContain("events_tx_id_position_idx");
    expect(await indexes(serialized)).toEqual(["events_id_key", "events_pkey", "events_run_sequence_key"]);
  });

  it("rejects bad options before connecting", async () => {
    const connectionString = db.url;
    await expect(createPostgresEventStore({ connectionString, schema: "bad-name" })).rejects.toThrow(RangeError);
    await expect(createPostgresEventStore({ connectionString, schema: "x".repeat(64) })).rejects.toThrow(RangeError);
    await expect(createPostgresEventStore({ connectionString: "mysql://x" })).rejects.toThrow(RangeError);
    await expect(createPostgresEventStore({ connectionString, poolSize: 0 })).rejects.toThrow(RangeError);
    await expect(
      createPostgresEventStore({ connectionString, positions: "sloppy" as unknown as "serialized" }),
    ).rejects.toThrow(RangeError);
    await expect(createPostgresEventStore({ connectionString, notifyChannel: "" })).rejects.toThrow(RangeError);
  });
});
