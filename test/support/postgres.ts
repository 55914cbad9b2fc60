// PostgreSQL for the int and e2e tiers. RUNLOG_TEST_DATABASE_URL names the server
// (default postgres://postgres@127.0.0.1:5432/test); each test file gets a database
// of its own (created here, dropped in afterAll) and each store a schema of its own.
//
// When the server is unreachable: with CI=true the file fails (a missing database must
// never look like a pass); otherwise it says so loudly and skips.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, it } from "vitest";

export const serverUrl = process.env.RUNLOG_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The same server, another database. */
export function databaseUrl(database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface PostgresProbe {
  readonly available: boolean;
  readonly reason: string;
}

/** Whether the server answers (once per file). */
export async function probePostgres(): Promise<PostgresProbe> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { available: true, reason: "" };
  } catch (error) {
    return { available: false, reason: `PostgreSQL is not reachable at ${serverUrl}: ${(error as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

const probe = await probePostgres();
const inCi = process.env.CI === "true";
if (!probe.available && !inCi) {
  const bar = "!".repeat(100);
  console.warn(
    `\n${bar}\n!! SKIPPED: PostgreSQL tests in ${process.env.VITEST_POOL_ID ? "this file" : "this run"} did not run.\n!! ${probe.reason}\n` +
      `!! Start PostgreSQL (or set RUNLOG_TEST_DATABASE_URL); with CI=true this is a failure.\n${bar}\n`,
  );
}

/**
 * describe() for tests that need PostgreSQL: runs them when the server answers; when it
 * does not, fails in CI and skips (loudly) elsewhere.
 */
export function describePostgres(name: string, body: () => void): void {
  if (probe.available) {
    describe(name, body);
  } else if (inCi) {
    describe(name, () => {
      it("needs PostgreSQL (CI=true: a missing database is a failure)", () => {
        throw new Error(probe.reason);
      });
    });
  } else {
    describe.skip(`${name} [SKIPPED: ${probe.reason}]`, body);
  }
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A schema name not used before in this database. */
  newSchema(label?: string): string;
  /** Runs SQL on the test database (admin connection; for checks and fault injection). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** A connection of the admin pool, e.g. to hold a transaction open; release() it. */
  connect(): Promise<pg.PoolClient>;
  dropSchema(schema: string): Promise<void>;
}

/**
 * A database of this file's own: created before the suite's tests, dropped after them.
 * Call at the top of a describePostgres body (so a skipped suite never touches the server).
 */
export function useTestDatabase(label: string): TestDatabase {
  const name = `runlog_t_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  const url = databaseUrl(name);
  let admin: pg.Pool | undefined;
  let counter = 0;

  beforeAll(async () => {
    await onServer(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    admin = new pg.Pool({ connectionString: url, max: 4, application_name: "runlog-test-admin" });
    admin.on("error", () => undefined);
  });

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    await onServer(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  });

  const adminPool = () => {
    if (admin === undefined) throw new Error("the test database is not created yet (use it inside tests or hooks)");
    return admin;
  };

  return {
    name,
    url,
    newSchema(schemaLabel = "s") {
      counter++;
      return `${schemaLabel.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${counter}_${randomBytes(3).toString("hex")}`;
    },
    query(text, values) {
      return adminPool().query(text, values);
    },
    connect() {
      return adminPool().connect();
    },
    async dropSchema(schema) {
      await adminPool().query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    },
  };
}

async function onServer(sql: string): Promise<void> {
  const server = new pg.Client({ connectionString: serverUrl });
  server.on("error", () => undefined);
  await server.connect();
  try {
    await server.query(sql);
  } finally {
    await server.end();
  }
}
