// PostgreSQL for the benchmarks: one database (runlog_bench by default, created
// when missing) shared by the bare INSERT ceiling, runlog's PostgreSQL store and
// emmett-postgresql, so that all three measure the same server.
import pg from "pg";

/** The server, without a database path. */
const base = (process.env.RUNLOG_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432").replace(/\/+$/, "");
export const benchDatabase = process.env.RUNLOG_BENCH_PG_DB ?? "runlog_bench";
export const pgUrl = `${base}/${benchDatabase}`;

let ensured: Promise<string | undefined> | undefined;

/** Creates the benchmark database if needed; returns a skip reason when PostgreSQL is unreachable. */
export function pgAvailable(): Promise<string | undefined> {
  ensured ??= (async () => {
    const admin = new pg.Client({ connectionString: `${base}/postgres`, connectionTimeoutMillis: 3000 });
    try {
      await admin.connect();
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [benchDatabase]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${benchDatabase}`);
      return undefined;
    } catch (error) {
      return `PostgreSQL not reachable at ${base} (set RUNLOG_BENCH_PG): ${(error as Error).message}`;
    } finally {
      await admin.end().catch(() => {});
    }
  })();
  return ensured;
}

export function pgPool(max = 16): pg.Pool {
  return new pg.Pool({ connectionString: pgUrl, max });
}
