// Runs the numbered migrations (migrations.ts) on one schema. Safe when several
// servers start at once: everything happens in one transaction holding an advisory
// lock on the schema, so one server migrates and the others then find nothing to do.
import type { ClientBase } from "pg";
import { migrationLockKey } from "./lock-keys.js";
import { migrations } from "./migrations.js";
import { quoteIdentifier } from "./identifiers.js";
import type { PositionMode } from "./options.js";

export interface MigrationResult {
  /** Versions applied by this call (empty when the schema was up to date). */
  readonly applied: readonly number[];
  /** The position mode recorded for the schema. */
  readonly positions: string;
}

/**
 * Brings `schema` up to date and records (or checks) the settings every server on it
 * must share. Throws when the schema is newer than this code or was created with
 * another position mode.
 */
export async function migrate(client: ClientBase, schema: string, positions: PositionMode): Promise<MigrationResult> {
  const s = quoteIdentifier(schema);
  const applied: number[] = [];
  await client.query("BEGIN");
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${migrationLockKey(schema)})`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version    integer NOT NULL PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
    const have = new Set(done.rows.map((r) => r.version));
    const newest = migrations[migrations.length - 1]?.version ?? 0;
    const unknown = [...have].filter((v) => v > newest);
    if (unknown.length > 0) {
      throw new Error(`postgres schema ${schema} has migrations ${unknown.join(", ")} that this runlog does not know: upgrade runlog`);
    }
    for (const migration of migrations) {
      if (have.has(migration.version)) continue;
      await client.query(migration.sql(s, schema, positions));
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query(`INSERT INTO ${s}.settings (name, value) VALUES ('positions', $1) ON CONFLICT (name) DO NOTHING`, [
      positions,
    ]);
    const setting = await client.query<{ value: string }>(`SELECT value FROM ${s}.settings WHERE name = 'positions'`);
    const recorded = setting.rows[0]?.value ?? positions;
    if (recorded !== positions) {
      throw new Error(
        `postgres schema ${schema} uses position mode "${recorded}", not "${positions}": every server on one schema must use the same mode`,
      );
    }
    await client.query("COMMIT");
    return { applied, positions: recorded };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
